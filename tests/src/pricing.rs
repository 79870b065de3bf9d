//! What a million deliveries cost on AWS: the request counts `tests/aws_cost.rs` measures,
//! priced at AWS's list prices. Prices change; each is a named constant and
//! [`PRICES_AS_OF`] says when they were read (US East, N. Virginia, on-demand, beyond the
//! free tiers).

/// When the prices below were read from AWS's pricing pages.
pub const PRICES_AS_OF: &str = "2025-01";
/// SQS standard queue: per million requests (each 64 KiB of a message counts as one).
pub const SQS_PER_MILLION_REQUESTS: f64 = 0.40;
/// DynamoDB on-demand: per million write request units (1 KB each, per index too).
pub const DYNAMODB_PER_MILLION_WRITE_UNITS: f64 = 0.625;
/// DynamoDB on-demand: per million read request units (4 KB strongly consistent).
pub const DYNAMODB_PER_MILLION_READ_UNITS: f64 = 0.125;
/// Lambda: per million invocations.
pub const LAMBDA_PER_MILLION_INVOCATIONS: f64 = 0.20;
/// Lambda on arm64: per GB-second of duration.
pub const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// API Gateway HTTP API: per million requests (the first 300 million a month).
pub const HTTP_API_PER_MILLION_REQUESTS: f64 = 1.00;

/// What one delivery uses, on average.
#[derive(Debug, Clone, Copy)]
pub struct PerDelivery {
    /// Billed SQS requests (empty receives excluded: Lambda's pollers make them whether or
    /// not there is work, a fixed cost per queue rather than per delivery).
    pub sqs_requests: f64,
    pub write_units: f64,
    pub read_units: f64,
    /// Invocations of the three functions.
    pub invocations: f64,
    pub api_requests: f64,
    /// Lambda duration, GB-seconds (an assumption stated by the caller: it depends on the
    /// receivers' response times, which no emulator can tell).
    pub gb_seconds: f64,
}

/// Dollars per million deliveries, line by line.
pub fn per_million(usage: PerDelivery) -> Vec<(&'static str, f64)> {
    vec![
        ("SQS requests", usage.sqs_requests * SQS_PER_MILLION_REQUESTS),
        ("DynamoDB writes", usage.write_units * DYNAMODB_PER_MILLION_WRITE_UNITS),
        ("DynamoDB reads", usage.read_units * DYNAMODB_PER_MILLION_READ_UNITS),
        ("Lambda invocations", usage.invocations * LAMBDA_PER_MILLION_INVOCATIONS),
        ("Lambda duration", usage.gb_seconds * 1_000_000.0 * LAMBDA_ARM64_PER_GB_SECOND),
        ("HTTP API requests", usage.api_requests * HTTP_API_PER_MILLION_REQUESTS),
    ]
}
