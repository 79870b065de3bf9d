//! Reads shared by the deliveries of one batch: each endpoint and each event payload is
//! read once per batch, however many of its deliveries the batch holds and however many
//! of them run at once. On Lambda a batch of 10 deliveries of one event to 10 endpoints
//! read its payload 10 times (every one missed the cache together), and 10 deliveries to
//! one endpoint read it 10 times; each read is a DynamoDB request. A batch is handled
//! within moments, so a read shared by it is as fresh as one read per delivery.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::OnceCell;
use webhooks::endpoints::Endpoint;
use webhooks::ids::{EndpointId, Tenant};

/// One value per key, read by the first caller while the others wait for it; a failed
/// read is not kept (the next caller reads again).
pub(crate) struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self { cells: Mutex::default() }
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) async fn get_or_read<E, Fut>(&self, key: K, read: impl FnOnce() -> Fut) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = self.cells.lock().expect("batch reads").entry(key).or_default().clone();
        cell.get_or_try_init(read).await.cloned()
    }
}

/// What one batch's deliveries read once between them.
#[derive(Default)]
pub(crate) struct BatchReads {
    pub(crate) endpoints: Memo<(Tenant, EndpointId), Endpoint>,
    pub(crate) payloads: Memo<(Tenant, String), Option<Bytes>>,
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn callers_at_once_share_one_read_and_a_failure_is_read_again() {
        let memo: Memo<&str, u32> = Memo::default();
        let reads = AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, ()>(7)
        };
        let (a, b, c) =
            tokio::join!(memo.get_or_read("a", read), memo.get_or_read("a", read), memo.get_or_read("a", read));
        assert_eq!((a, b, c), (Ok(7), Ok(7), Ok(7)));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(memo.get_or_read("b", || async { Err::<u32, _>("down") }).await, Err("down"));
        assert_eq!(memo.get_or_read("b", || async { Ok::<_, &str>(8) }).await, Ok(8));
    }
}
