//! Sharded hot keys. Every event of a tenant writes an entry in its event log, and every
//! delivery an entry in its delivery listing; in one partition each, a tenant would be
//! capped near the 1,000 writes a second a DynamoDB partition takes (time-ordered sort keys
//! defeat its split for heat). So each is spread over `shards` partitions, `{partition}`
//! (shard 0, the name an unsharded table uses) and `{partition}#1` to `#{shards - 1}`, an
//! item's shard chosen from its event's id; a page reads every shard and merges them,
//! newest first. An event's deliveries share its shard, so they are read from one.

use std::hash::Hasher;

/// The shard of an item whose event is `event_id`, among `shards`.
pub fn shard_of(event_id: &str, shards: u16) -> u16 {
    // FNV-1a: stable across builds and machines, unlike std's hasher.
    let mut hash = Fnv1a::default();
    hash.write(event_id.as_bytes());
    (hash.finish() % u64::from(shards.max(1))) as u16
}

/// The partition key of `partition`'s shard `shard`: shard 0 is the partition itself.
pub fn sharded(partition: String, shard: u16) -> String {
    if shard == 0 { partition } else { format!("{partition}#{shard}") }
}

/// Every shard's partition key.
pub fn all(partition: &str, shards: u16) -> Vec<String> {
    (0..shards.max(1)).map(|shard| sharded(partition.to_owned(), shard)).collect()
}

/// One list of items from lists each sorted newest first by `key` (descending), the newest
/// `keep` of them.
pub fn merge_newest_first<T>(lists: Vec<Vec<T>>, keep: usize, key: impl Fn(&T) -> &str) -> Vec<T> {
    let mut merged: Vec<T> = lists.into_iter().flatten().collect();
    merged.sort_by(|a, b| key(b).cmp(key(a)));
    merged.truncate(keep);
    merged
}

struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shard_is_the_unsharded_partition() {
        assert_eq!(shard_of("evt_1", 1), 0);
        assert_eq!(all("EVL#acme", 1), ["EVL#acme"]);
        assert_eq!(all("EVL#acme", 3), ["EVL#acme", "EVL#acme#1", "EVL#acme#2"]);
    }

    #[test]
    fn events_spread_evenly_and_always_to_the_same_shard() {
        let mut counts = [0usize; 16];
        for n in 0..16_000 {
            let id = format!("evt_{n}");
            let shard = shard_of(&id, 16);
            assert_eq!(shard, shard_of(&id, 16));
            counts[usize::from(shard)] += 1;
        }
        assert!(counts.iter().all(|&count| (800..1200).contains(&count)), "{counts:?}");
        // Stable: a value computed by hand (FNV-1a of "evt_1" is 0x92f43a00c3284f02).
        assert_eq!(shard_of("evt_1", 1 << 15), (0x92f4_3a00_c328_4f02_u64 % (1 << 15)) as u16);
    }

    #[test]
    fn merging_keeps_the_newest_in_order_and_takes_an_empty_shard() {
        let lists = vec![vec!["9", "5", "1"], vec![], vec!["8", "7", "2"], vec!["6"]];
        assert_eq!(merge_newest_first(lists, 5, |s| s), ["9", "8", "7", "6", "5"]);
    }
}
