//! `template.yaml` read as CloudFormation reads it: the short-form intrinsics (`!Ref`, `!Sub`,
//! `!GetAtt`, `!Split`, `!Select`, `!If`, ...) and `Fn::Length` evaluated with parameter
//! values and the physical resources a test supplies, so that tests can hold the template to
//! the code (resource shapes, settings, binaries) instead of to a copy of it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use serde_yaml_ng::Value as Yaml;

pub const REGION: &str = "us-east-1";

pub struct Template {
    pub root: Value,
}

/// What a test knows about the deployed stack; intrinsics resolve against it.
#[derive(Default)]
pub struct Stack {
    pub name: String,
    /// Parameter values that replace the template's defaults.
    pub parameters: BTreeMap<String, String>,
    /// `!Ref Resource` answers, by logical id (a queue's URL, say).
    pub refs: BTreeMap<String, String>,
    /// `!GetAtt Resource.Attribute` answers, by (logical id, attribute).
    pub attributes: BTreeMap<(String, String), String>,
}

impl Stack {
    /// A stack where every resource answers `!Ref` and `!GetAtt` with a placeholder naming it
    /// (`ref:Table`, `arn:Table`, `Table.QueueName`), for checks that need no real resources.
    pub fn with_placeholders(name: &str, template: &Template) -> Self {
        let mut stack = Stack { name: name.to_owned(), ..Stack::default() };
        for id in template.resources().keys() {
            stack.refs.insert(id.clone(), format!("ref:{id}"));
            for attribute in ["Arn", "QueueName"] {
                stack.attributes.insert((id.clone(), attribute.into()), format!("{}:{id}", attribute.to_lowercase()));
            }
        }
        stack
    }
}

impl Template {
    /// The repository's template.yaml.
    pub fn load() -> Self {
        let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let yaml: Yaml = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        Self { root: long_form(yaml) }
    }

    pub fn resources(&self) -> &Map<String, Value> {
        self.root["Resources"].as_object().expect("Resources")
    }

    /// Logical ids of the resources of a CloudFormation type, in template order.
    pub fn of_type(&self, resource_type: &str) -> Vec<String> {
        self.resources().iter().filter(|(_, r)| r["Type"] == resource_type).map(|(id, _)| id.clone()).collect()
    }

    pub fn resource(&self, logical_id: &str) -> &Value {
        self.resources().get(logical_id).unwrap_or_else(|| panic!("no resource {logical_id} in template.yaml"))
    }

    pub fn parameter_default(&self, name: &str) -> Option<String> {
        self.root["Parameters"][name]["Default"].as_str().map(str::to_owned).or_else(|| {
            let default = &self.root["Parameters"][name]["Default"];
            (!default.is_null()).then(|| scalar(default))
        })
    }

    /// `value` with every intrinsic function replaced by its result in `stack`.
    pub fn evaluate(&self, value: &Value, stack: &Stack) -> Value {
        Evaluator { template: self, stack }.eval(value)
    }
}

/// YAML's tags become CloudFormation's long form: `!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B`
/// is `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` is `{"Fn::Sub": s}`.
fn long_form(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Number(n) => serde_json::to_value(&n).expect("a YAML number is a JSON number"),
        Yaml::String(s) => json!(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter().map(|(k, v)| (k.as_str().expect("string keys").to_owned(), long_form(v))).collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = long_form(tagged.value);
            match tag {
                "Ref" => json!({ "Ref": inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (resource, attribute) = s.split_once('.').expect("!GetAtt Resource.Attribute");
                        json!({ "Fn::GetAtt": [resource, attribute] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                other => json!({ format!("Fn::{other}"): inner }),
            }
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Evaluator<'a> {
    template: &'a Template,
    stack: &'a Stack,
}

impl Evaluator<'_> {
    fn eval(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.eval(item)).filter(|v| !is_no_value(v)).collect())
            }
            Value::Object(map) if map.len() == 1 => {
                let (name, argument) = map.iter().next().expect("one entry");
                match name.as_str() {
                    "Ref" => self.reference(argument.as_str().expect("!Ref name")),
                    "Fn::GetAtt" => {
                        let parts = argument.as_array().expect("[Resource, Attribute]");
                        self.attribute(parts[0].as_str().unwrap(), parts[1].as_str().unwrap())
                    }
                    "Fn::Sub" => json!(self.substitute(argument.as_str().expect("!Sub of a string"))),
                    "Fn::Split" => {
                        let (separator, text) = self.pair(argument);
                        json!(scalar(&text).split(separator.as_str().unwrap()).collect::<Vec<_>>())
                    }
                    "Fn::Join" => {
                        let (separator, items) = self.pair(argument);
                        let items: Vec<String> = items.as_array().unwrap().iter().map(scalar).collect();
                        json!(items.join(separator.as_str().unwrap()))
                    }
                    "Fn::Select" => {
                        let (index, items) = self.pair(argument);
                        let index: usize = scalar(&index).parse().expect("a numeric index");
                        items[index].clone()
                    }
                    "Fn::Length" => json!(self.eval(argument).as_array().expect("Fn::Length of a list").len()),
                    "Fn::Equals" => {
                        let (a, b) = self.pair(argument);
                        json!(scalar(&a) == scalar(&b))
                    }
                    "Fn::Not" => json!(!self.eval(&argument[0]).as_bool().expect("a condition")),
                    "Fn::If" => {
                        let condition = argument[0].as_str().expect("a condition name");
                        let holds = self.eval(&self.template.root["Conditions"][condition]);
                        self.eval(&argument[if holds.as_bool().expect("a condition") { 1 } else { 2 }])
                    }
                    _ => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.eval(v))).collect()),
                }
            }
            Value::Object(map) => Value::Object(
                map.iter().map(|(k, v)| (k.clone(), self.eval(v))).filter(|(_, v)| !is_no_value(v)).collect(),
            ),
            scalar => scalar.clone(),
        }
    }

    fn pair(&self, argument: &Value) -> (Value, Value) {
        let items = argument.as_array().expect("a two-element list");
        (self.eval(&items[0]), self.eval(&items[1]))
    }

    fn reference(&self, name: &str) -> Value {
        match name {
            "AWS::StackName" => json!(self.stack.name),
            "AWS::Region" => json!(REGION),
            "AWS::URLSuffix" => json!("amazonaws.com"),
            "AWS::NoValue" => json!({ "NoValue": true }),
            _ => {
                if let Some(value) = self.stack.parameters.get(name) {
                    return json!(value);
                }
                if let Some(default) = self.template.parameter_default(name) {
                    return json!(default);
                }
                let known = self.stack.refs.get(name);
                json!(known.unwrap_or_else(|| panic!("the test supplies no value for !Ref {name}")))
            }
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Value {
        let key = (resource.to_owned(), attribute.to_owned());
        let known = self.stack.attributes.get(&key);
        json!(known.unwrap_or_else(|| panic!("the test supplies no value for !GetAtt {resource}.{attribute}")))
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closing brace") + start;
            let name = &rest[start + 2..end];
            let value = match name.split_once('.') {
                Some((resource, attribute)) if !name.starts_with("AWS::") => self.attribute(resource, attribute),
                _ => self.reference(name),
            };
            out.push_str(&scalar(&value));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn is_no_value(value: &Value) -> bool {
    value.get("NoValue").is_some()
}
