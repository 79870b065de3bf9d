//! Request and capacity counters per backend operation, so the cost of a delivery is measured
//! (by tests and the bench) rather than guessed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What one operation cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OperationUsage {
    /// Billable requests (SQS bills a batch of up to 10 as one request).
    pub requests: u64,
    /// Capacity units the backend reported (DynamoDB's ReturnConsumedCapacity).
    pub capacity_units: f64,
}

/// Shared, cheap to clone; one per adapter instance.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    operations: Arc<Mutex<BTreeMap<&'static str, OperationUsage>>>,
}

impl Usage {
    pub fn record(&self, operation: &'static str, capacity_units: f64) {
        let mut operations = self.operations.lock().expect("usage counters");
        let entry = operations.entry(operation).or_default();
        entry.requests += 1;
        entry.capacity_units += capacity_units;
    }

    /// Every operation used so far, by name.
    pub fn snapshot(&self) -> BTreeMap<&'static str, OperationUsage> {
        self.operations.lock().expect("usage counters").clone()
    }

    pub fn reset(&self) {
        self.operations.lock().expect("usage counters").clear();
    }
}
