//! template.yaml held to the code: the same table and queues as `serve --aws --provision`
//! creates (compared with what the emulator reports after provisioning), every setting the
//! functions read and nothing else, the workspace's binaries, timeouts that fit their queues,
//! roles that name only the stack's own resources, and the promised alarms.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::security::url_guard::UrlPolicy;
use webhooks_aws::deployment::{DISPATCHER_TIMEOUT, Deployment, SENDER_TIMEOUT};
use webhooks_aws::dynamodb::DEFAULT_RETENTION;
use webhooks_aws::{AwsSettings, DEFAULT_SUBSCRIPTION_CACHE, env};
use webhooks_tests::local_aws::{local_aws, unique_name};
use webhooks_tests::template::{Stack, Template};

fn number(value: &Value) -> u64 {
    match value {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("{s:?} is not a number")),
        other => panic!("{other} is not a number"),
    }
}

fn strings(value: &Value, fields: &[&str]) -> BTreeSet<Vec<String>> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|item| fields.iter().map(|f| item[*f].as_str().unwrap().to_owned()).collect())
        .collect()
}

/// A key schema as (attribute, HASH or RANGE) pairs, comparable with [`strings`]'s.
fn key_pairs(schema: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> BTreeSet<Vec<String>> {
    schema.iter().map(|k| vec![k.attribute_name().to_owned(), k.key_type().as_str().to_owned()]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_declares_what_provisioning_creates() {
    // A schedule other than the default, so the redrive count must follow it.
    let policy =
        DeliveryPolicy { schedule: vec![Duration::from_secs(1), Duration::from_secs(2)], ..Default::default() };
    let prefix = unique_name("stack");
    let config = local_aws().sdk_config().await;
    let (dynamodb, sqs) = (aws_sdk_dynamodb::Client::new(&config), aws_sdk_sqs::Client::new(&config));
    let deployment = Deployment::named(&prefix, &policy);
    webhooks_aws::deployment::provision(&dynamodb, &sqs, &deployment).await.unwrap();

    let template = Template::load();
    let mut stack = Stack { name: prefix.clone(), ..Stack::default() };
    stack.parameters.insert("RetrySchedule".into(), "1s,2s".into());

    // Queues: matched by the name the template gives them.
    let queues = template.of_type("AWS::SQS::Queue");
    let mut live = BTreeMap::new();
    for id in &queues {
        let name = template.evaluate(&template.resource(id)["Properties"]["QueueName"], &stack);
        let name = name.as_str().unwrap().to_owned();
        let url = sqs.get_queue_url().queue_name(&name).send().await;
        let url =
            url.unwrap_or_else(|_| panic!("{id} ({name}) is not a queue provisioning creates")).queue_url.unwrap();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        let arn = attributes[&QueueAttributeName::QueueArn].clone();
        stack.attributes.insert((id.clone(), "Arn".into()), arn);
        stack.attributes.insert((id.clone(), "QueueName".into()), name.clone());
        live.insert(id.clone(), (name, attributes));
    }
    let provisioned: BTreeSet<&str> = [
        &deployment.queues.events,
        &deployment.queues.events_dlq,
        &deployment.queues.deliveries,
        &deployment.queues.deliveries_dlq,
        &deployment.queues.slow_deliveries,
    ]
    .iter()
    .map(|q| q.name.as_str())
    .collect();
    let declared: BTreeSet<&str> = live.values().map(|(name, _)| name.as_str()).collect();
    assert_eq!(declared, provisioned, "the template's queues and provisioning's");

    for (id, (name, attributes)) in &live {
        let declared = template.evaluate(&template.resource(id)["Properties"], &stack);
        let attribute = |a: QueueAttributeName| attributes.get(&a).cloned().unwrap_or_default();
        assert_eq!(
            number(&declared["VisibilityTimeout"]).to_string(),
            attribute(QueueAttributeName::VisibilityTimeout),
            "{name}: visibility timeout"
        );
        assert_eq!(
            number(&declared["MessageRetentionPeriod"]).to_string(),
            attribute(QueueAttributeName::MessageRetentionPeriod),
            "{name}: retention"
        );
        assert_eq!(declared["SqsManagedSseEnabled"], json!(true), "{name}: SSE in the template");
        assert_eq!(attribute(QueueAttributeName::SqsManagedSseEnabled), "true", "{name}: SSE when provisioned");
        let live_redrive: Option<Value> =
            attributes.get(&QueueAttributeName::RedrivePolicy).map(|text| serde_json::from_str(text).unwrap());
        match (declared.get("RedrivePolicy"), live_redrive) {
            (None, None) => {}
            (Some(declared), Some(live)) => {
                assert_eq!(declared["deadLetterTargetArn"], live["deadLetterTargetArn"], "{name}: dead-letter queue");
                assert_eq!(number(&declared["maxReceiveCount"]), number(&live["maxReceiveCount"]), "{name}: receives");
            }
            (declared, live) => panic!("{name}: redrive policy declared {declared:?}, provisioned {live:?}"),
        }
    }
    for queue in ["DeliveriesQueue", "SlowDeliveriesQueue"] {
        let declared = template.evaluate(&template.resource(queue)["Properties"], &stack);
        assert_eq!(
            number(&declared["RedrivePolicy"]["maxReceiveCount"]),
            u64::from(policy.max_attempts()),
            "{queue} redrives after the last attempt"
        );
    }

    // The table.
    let tables = template.of_type("AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one table");
    let declared = template.evaluate(&template.resource(&tables[0])["Properties"], &stack);
    assert_eq!(declared["TableName"], json!(deployment.table));
    let live = dynamodb.describe_table().table_name(&deployment.table).send().await.unwrap().table.unwrap();
    assert_eq!(
        strings(&declared["KeySchema"], &["AttributeName", "KeyType"]),
        key_pairs(live.key_schema()),
        "key schema"
    );
    let live_attributes: BTreeSet<Vec<String>> = live
        .attribute_definitions()
        .iter()
        .map(|a| vec![a.attribute_name().to_owned(), a.attribute_type().as_str().to_owned()])
        .collect();
    assert_eq!(
        strings(&declared["AttributeDefinitions"], &["AttributeName", "AttributeType"]),
        live_attributes,
        "attribute definitions"
    );
    let live_indexes: BTreeMap<String, (BTreeSet<Vec<String>>, String)> = live
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            let keys = key_pairs(index.key_schema());
            let projection = index.projection().and_then(|p| p.projection_type()).unwrap().as_str().to_owned();
            (index.index_name().unwrap().to_owned(), (keys, projection))
        })
        .collect();
    let declared_indexes: BTreeMap<String, (BTreeSet<Vec<String>>, String)> = declared["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|index| {
            let keys = strings(&index["KeySchema"], &["AttributeName", "KeyType"]);
            let projection = index["Projection"]["ProjectionType"].as_str().unwrap().to_owned();
            (index["IndexName"].as_str().unwrap().to_owned(), (keys, projection))
        })
        .collect();
    assert_eq!(declared_indexes, live_indexes, "global secondary indexes");
    assert_eq!(declared["BillingMode"], "PAY_PER_REQUEST");
    let live_billing = live.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str().to_owned());
    assert_eq!(live_billing.as_deref(), Some("PAY_PER_REQUEST"));
    let ttl = dynamodb.describe_time_to_live().table_name(&deployment.table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(declared["TimeToLiveSpecification"]["AttributeName"].as_str(), ttl.attribute_name(), "TTL attribute");
    assert_eq!(declared["TimeToLiveSpecification"]["Enabled"], json!(true));
    assert_eq!(declared["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], json!(true));
}

#[test]
fn the_template_sets_every_setting_the_functions_read_and_nothing_else() {
    let template = Template::load();
    let stack = Stack::with_placeholders("webhooks", &template);
    let variables = template.evaluate(&template.root["Globals"]["Function"]["Environment"]["Variables"], &stack);
    let variables = variables.as_object().unwrap();
    let set: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    let read: BTreeSet<&str> = env::ALL.into_iter().collect();
    assert_eq!(set, read, "variables the template sets vs. those the code reads");
    for id in template.of_type("AWS::Serverless::Function") {
        assert!(
            template.resource(&id)["Properties"].get("Environment").is_none(),
            "{id} sets its own variables; all of them belong in Globals"
        );
    }

    // The defaults the template passes are the code's own defaults.
    let settings = AwsSettings::from_lookup(|name| variables.get(name).and_then(Value::as_str).map(str::to_owned))
        .expect("the template's settings parse");
    assert_eq!(settings.service.policy, DeliveryPolicy::default());
    assert_eq!(settings.service.retention, DEFAULT_RETENTION);
    assert_eq!(settings.service.subscription_cache, DEFAULT_SUBSCRIPTION_CACHE);
    assert_eq!(settings.service.max_endpoints, webhooks::endpoints::rules::DEFAULT_MAX_ENDPOINTS);
    assert_eq!(
        settings.service.url_policy,
        UrlPolicy::default(),
        "a deployed stack refuses plain-HTTP and internal endpoints"
    );
    assert_eq!(settings.events_queue_url, "ref:EventsQueue");
}

/// The Lambda functions as the template builds them: (binary, function, consumed queues).
fn functions(template: &Template) -> Vec<(String, String, Vec<String>)> {
    template
        .of_type("AWS::Serverless::Function")
        .into_iter()
        .map(|id| {
            let function = template.resource(&id);
            assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
            let binary = function["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
            let events = function["Properties"]["Events"].as_object().unwrap();
            let queues = events
                .values()
                .filter(|e| e["Type"] == "SQS")
                .map(|e| {
                    assert_eq!(e["Properties"]["FunctionResponseTypes"], json!(["ReportBatchItemFailures"]), "{id}");
                    e["Properties"]["Queue"]["Fn::GetAtt"][0].as_str().unwrap().to_owned()
                })
                .collect();
            (binary, id, queues)
        })
        .collect()
}

#[test]
fn the_functions_are_the_workspace_binaries_and_fit_their_queues() {
    let template = Template::load();
    let globals = &template.root["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(template.parameter_default("Architecture").as_deref(), Some("arm64"));

    let functions = functions(&template);
    let binaries: BTreeSet<&str> = functions.iter().map(|(binary, ..)| binary.as_str()).collect();
    assert_eq!(binaries, BTreeSet::from(["webhooks-api", "webhooks-dispatcher", "webhooks-sender"]));
    let built = webhooks_tests::binary_path().parent().unwrap().to_owned();
    for binary in &binaries {
        assert!(built.join(binary).exists(), "{binary} is not a binary of the workspace");
    }

    let expected_timeouts = BTreeMap::from([
        ("EventsQueue", DISPATCHER_TIMEOUT),
        ("DeliveriesQueue", SENDER_TIMEOUT),
        ("SlowDeliveriesQueue", SENDER_TIMEOUT),
    ]);
    let consumed: BTreeSet<&str> =
        functions.iter().flat_map(|(.., queues)| queues.iter().map(String::as_str)).collect();
    assert_eq!(consumed, expected_timeouts.keys().copied().collect(), "the queues the functions consume");
    for (binary, id, queue) in functions.iter().flat_map(|(b, id, queues)| queues.iter().map(move |q| (b, id, q))) {
        let timeout = template.resource(id)["Properties"]["Timeout"]["Ref"].as_str().unwrap();
        let parameter = &template.root["Parameters"][timeout];
        let visibility = number(&template.resource(queue)["Properties"]["VisibilityTimeout"]);
        assert!(
            number(&parameter["MaxValue"]) * 6 <= visibility,
            "{binary}: its longest timeout must fit 6 times in {queue}'s visibility timeout"
        );
        assert_eq!(Duration::from_secs(number(&parameter["Default"])), expected_timeouts[queue.as_str()], "{binary}");
    }
    let sender = template.resource("SenderFunction");
    for lane in ["Deliveries", "SlowDeliveries"] {
        let scaling = &sender["Properties"]["Events"][lane]["Properties"]["ScalingConfig"];
        assert!(scaling["MaximumConcurrency"].get("Ref").is_some(), "the sender's {lane} concurrency is a parameter");
    }
}

#[test]
fn policies_name_only_this_stack_s_table_queues_and_log_groups() {
    let template = Template::load();
    let stack = Stack::with_placeholders("webhooks", &template);
    let own: BTreeSet<String> = template.resources().keys().cloned().collect();
    let roles = template.of_type("AWS::IAM::Role");
    for (_, id, _) in functions(&template) {
        let properties = &template.resource(&id)["Properties"];
        assert!(properties.get("Policies").is_none(), "{id}: SAM policies would come with a role SAM makes");
        let role = properties["Role"]["Fn::GetAtt"][0].as_str().unwrap_or_else(|| panic!("{id} has no role"));
        assert!(roles.iter().any(|r| r == role), "{id}: {role} is not one of the stack's roles");
    }
    for id in &roles {
        let properties = template.evaluate(&template.resource(id)["Properties"], &stack);
        assert!(properties.get("ManagedPolicyArns").is_none(), "{id}: managed policies name `*` resources");
        for policy in properties["Policies"].as_array().unwrap() {
            for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
                let list = |value: &Value| match value {
                    Value::Array(all) => all.clone(),
                    one => vec![one.clone()],
                };
                for resource in list(&statement["Resource"]) {
                    let resource = resource.as_str().unwrap();
                    let named = resource.strip_prefix("arn:").map(|r| r.split('/').next().unwrap());
                    assert!(named.is_some_and(|r| own.contains(r)), "{id}: {resource} is not the stack's");
                }
                for action in list(&statement["Action"]) {
                    assert!(!action.as_str().unwrap().contains('*'), "{id}: wildcard action {action}");
                }
            }
        }
    }
}

/// The (action, resource) pairs `role`'s policies allow, resources named by template id.
fn allowed(template: &Template, role: &str) -> BTreeSet<(String, String)> {
    let stack = Stack::with_placeholders("webhooks", template);
    let properties = template.evaluate(&template.resource(role)["Properties"], &stack);
    let list = |value: &Value| match value {
        Value::Array(all) => all.clone(),
        one => vec![one.clone()],
    };
    let mut allowed = BTreeSet::new();
    for policy in properties["Policies"].as_array().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            for resource in list(&statement["Resource"]) {
                let resource = resource.as_str().unwrap().strip_prefix("arn:").unwrap_or_default();
                for action in list(&statement["Action"]) {
                    allowed.insert((action.as_str().unwrap().to_owned(), resource.to_owned()));
                }
            }
        }
    }
    allowed
}

#[test]
fn the_sender_may_retry_defer_and_move_deliveries_on_each_queue_it_consumes() {
    let template = Template::load();
    let allowed = allowed(&template, "SenderRole");
    let (_, _, queues) = functions(&template).into_iter().find(|(_, id, _)| id == "SenderFunction").unwrap();
    assert_eq!(queues.len(), 2, "the main lane and the slow lane");
    for queue in &queues {
        for action in [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility", // a retry
            "sqs:SendMessage",             // a deferral, or a move to the slow lane
        ] {
            assert!(allowed.contains(&(action.to_owned(), queue.clone())), "the sender may not {action} on {queue}");
        }
    }
    // Operational events (delivery.failing, endpoint.disabled, ...) go to the events queue.
    assert!(
        allowed.contains(&("sqs:SendMessage".into(), "EventsQueue".into())),
        "the sender may not tell the operator"
    );
}

#[test]
fn each_consumer_may_park_in_the_dlq_of_its_queues_and_the_api_may_look_and_redrive() {
    let template = Template::load();
    let mut dead_letter_queues = BTreeSet::new();
    for (_, id, queues) in functions(&template) {
        let role = template.resource(&id)["Properties"]["Role"]["Fn::GetAtt"][0].as_str().unwrap().to_owned();
        let allowed = allowed(&template, &role);
        for queue in queues {
            let redrive = &template.resource(&queue)["Properties"]["RedrivePolicy"]["deadLetterTargetArn"];
            let dlq = redrive["Fn::GetAtt"][0].as_str().unwrap().to_owned();
            assert!(allowed.contains(&("sqs:SendMessage".into(), dlq.clone())), "{id} may not park in {dlq}");
            dead_letter_queues.insert(dlq);
        }
    }
    assert_eq!(dead_letter_queues.len(), 2);
    let api = allowed(&template, "ApiRole");
    for dlq in &dead_letter_queues {
        for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] {
            assert!(api.contains(&(action.to_owned(), dlq.clone())), "the API may not {action} on {dlq}");
        }
    }
    for source in ["EventsQueue", "DeliveriesQueue"] {
        assert!(api.contains(&("sqs:SendMessage".into(), source.into())), "the API may not redrive to {source}");
    }
}

#[test]
fn alarms_watch_both_dead_letter_queues_the_delivery_backlog_and_every_function() {
    let template = Template::load();
    let alarms: Vec<(String, String)> = template
        .of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|id| {
            let properties = &template.resource(&id)["Properties"];
            let watched = properties["Dimensions"][0]["Value"].clone();
            let watched = watched.get("Fn::GetAtt").map_or_else(|| watched["Ref"].clone(), |a| a[0].clone());
            (properties["MetricName"].as_str().unwrap().to_owned(), watched.as_str().unwrap().to_owned())
        })
        .collect();
    let has = |metric: &str, resource: &str| alarms.iter().any(|(m, r)| m == metric && r == resource);
    for queue in ["EventsDeadLetterQueue", "DeliveriesDeadLetterQueue"] {
        assert!(has("ApproximateNumberOfMessagesVisible", queue), "no alarm on {queue}");
    }
    for queue in ["DeliveriesQueue", "SlowDeliveriesQueue"] {
        assert!(has("ApproximateAgeOfOldestMessage", queue), "no alarm on the backlog of {queue}");
    }
    for (_, id, _) in functions(&template) {
        assert!(has("Errors", &id), "no alarm on {id}'s errors");
    }
    for id in template.of_type("AWS::CloudWatch::Alarm") {
        let actions = &template.resource(&id)["Properties"]["AlarmActions"]["Fn::If"];
        assert_eq!(actions[0], "HasAlarmTopic", "{id} notifies the optional topic");
    }
}

/// The alarms on the functions' own metrics name what their EMF lines carry, in the stack's
/// dimension, so that a renamed metric cannot leave an alarm watching nothing.
#[test]
fn alarms_on_the_functions_metrics_watch_what_they_emit() {
    use webhooks_pipeline::metrics::emf;
    let template = Template::load();
    let mut watched = Vec::new();
    for id in template.of_type("AWS::CloudWatch::Alarm") {
        let properties = &template.resource(&id)["Properties"];
        if properties["Namespace"] != emf::NAMESPACE {
            continue;
        }
        let metric = properties["MetricName"].as_str().unwrap().to_owned();
        assert!(emf::metric_names().contains(&metric), "{id} watches {metric}, which no function emits");
        assert_eq!(
            properties["Dimensions"],
            json!([{"Name": emf::STACK_DIMENSION, "Value": {"Ref": "AWS::StackName"}}])
        );
        watched.push(metric);
    }
    watched.sort();
    assert_eq!(watched, ["DeliveryLatency", "EndpointsAutoDisabled"]);
}
