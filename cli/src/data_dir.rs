//! The embedded backend's data directory: its database file, and the lock that keeps one
//! process at a time on it (`serve`, or `admin-key` while no `serve` runs).

use std::fs::File;
use std::path::Path;

/// The embedded backend's database, in the data directory.
pub const DATABASE_FILE: &str = "webhooks.sqlite3";

/// Takes the data directory (creating it), or says which process holds it.
pub fn lock_data_dir(dir: &Path) -> Result<File, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let lock = File::create(dir.join("serve.lock")).map_err(|e| format!("creating the lock file: {e}"))?;
    lock.try_lock().map_err(|_| format!("another `webhooks serve` is using {}", dir.display()))?;
    Ok(lock)
}
