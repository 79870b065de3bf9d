//! The AWS backend: [`dynamodb::DynamoStore`] (the Store and RateCounter ports on one
//! table), [`sqs::SqsQueue`] (the Queue port), the settings every Lambda function and
//! `serve --aws` read ([`settings`], re-exported here), and the resources they run on
//! ([`deployment`]).

pub mod deployment;
pub mod dynamodb;
pub mod settings;
pub mod sqs;
pub mod usage;

pub use settings::*;
