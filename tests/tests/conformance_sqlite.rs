//! The port conformance suite against the embedded backend (SQLite).

use std::time::Duration;

use webhooks::deliveries::local_rate_counter::LocalRateCounter;
use webhooks_sqlite::{QueueSettings, SqliteDatabase};
use webhooks_tests::{conformance, data_dir};

fn database() -> (tempfile::TempDir, SqliteDatabase) {
    let dir = data_dir();
    let db = SqliteDatabase::open(&dir.path().join("db.sqlite3")).unwrap();
    (dir, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_contract() {
    let (_dir, db) = database();
    let store = db.store();
    conformance::store(&store).await;
}

/// `serve` on SQLite counts in memory: it is the data directory's only process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_counter_contract() {
    conformance::rate_counter(&LocalRateCounter::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_contract() {
    let (_dir, db) = database();
    let visibility = Duration::from_secs(1);
    let queue = db.queue(QueueSettings {
        name: "q".into(),
        visibility_timeout: visibility,
        max_receive_count: Some(3),
        dead_letter_queue: Some("q-dlq".into()),
    });
    let dead_letters = db.queue(QueueSettings {
        name: "q-dlq".into(),
        visibility_timeout: visibility,
        max_receive_count: None,
        dead_letter_queue: None,
    });
    conformance::queue(&queue, &dead_letters, visibility, 3).await;
    conformance::long_poll_wakes_on_send(&queue).await;
    conformance::delayed_send(&queue).await;
    let dead_letters = db.queue(QueueSettings {
        name: "q-dlq-2".into(),
        visibility_timeout: visibility,
        max_receive_count: None,
        dead_letter_queue: None,
    });
    conformance::dead_letters(&queue, &dead_letters).await;
}
