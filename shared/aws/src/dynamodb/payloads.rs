//! How an event's payload is stored in its item: compressed with zstd (attribute `pz`,
//! binary) when that makes it smaller, else as it came (`payload`, a string). DynamoDB bills
//! writes per started KB of the item, so a typical 1 KiB JSON event, which compresses to a
//! few hundred bytes, costs one write unit instead of two. Items written before compression
//! (a `payload` string) read as they always did.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::value::RawValue;

use super::items::{Item, malformed};
use webhooks::events::intake::MAX_PAYLOAD_BYTES;
use webhooks::ports::StoreError;

/// The attribute of a payload stored as it came.
pub const PLAIN: &str = "payload";
/// The attribute of a compressed payload.
pub const COMPRESSED: &str = "pz";
/// Both, for a projection that reads the payload.
pub const ATTRIBUTES: [&str; 2] = [PLAIN, COMPRESSED];

/// Shorter payloads are stored as they are: compression would not save a write unit.
const COMPRESS_FROM: usize = 256;
/// zstd's level: its fastest that still compresses JSON well (the default is 3).
const LEVEL: i32 = 1;

/// The attribute that stores `payload`: its name and value.
pub fn stored(payload: &str) -> (&'static str, AttributeValue) {
    if payload.len() >= COMPRESS_FROM
        && let Ok(compressed) = zstd::bulk::compress(payload.as_bytes(), LEVEL)
        && compressed.len() < payload.len()
    {
        return (COMPRESSED, AttributeValue::B(Blob::new(compressed)));
    }
    (PLAIN, AttributeValue::S(payload.to_owned()))
}

/// The payload an item stores, if it has one; malformed if it does not decompress to JSON
/// within the payload size limit.
pub fn read(item: &Item) -> Result<Option<Box<RawValue>>, StoreError> {
    let text = match (item.get(COMPRESSED), item.get(PLAIN)) {
        (Some(AttributeValue::B(blob)), _) => {
            let bytes = zstd::bulk::decompress(blob.as_ref(), MAX_PAYLOAD_BYTES).map_err(|_| malformed(COMPRESSED))?;
            String::from_utf8(bytes).map_err(|_| malformed(COMPRESSED))?
        }
        (_, Some(AttributeValue::S(text))) => text.clone(),
        (None, None) => return Ok(None),
        _ => return Err(malformed(PLAIN)),
    };
    RawValue::from_string(text).map(Some).map_err(|_| malformed(PLAIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(payload: &str) -> Item {
        let (name, value) = stored(payload);
        Item::from([(name.to_owned(), value)])
    }

    #[test]
    fn a_kilobyte_of_json_is_stored_compressed_and_reads_back_exactly() {
        let payload = serde_json::json!({"run": {"id": "run_42", "log": "x".repeat(1000)}}).to_string();
        let stored = item(&payload);
        let Some(AttributeValue::B(blob)) = stored.get(COMPRESSED) else { panic!("not compressed: {stored:?}") };
        assert!(blob.as_ref().len() < 100, "{} bytes", blob.as_ref().len());
        assert_eq!(read(&stored).unwrap().unwrap().get(), payload);
    }

    #[test]
    fn a_short_payload_is_stored_as_it_came() {
        let payload = serde_json::json!({"order": {"id": "ord_1", "total": 42}}).to_string();
        let stored = item(&payload);
        assert_eq!(stored.get(PLAIN), Some(&AttributeValue::S(payload.clone())));
        assert_eq!(read(&stored).unwrap().unwrap().get(), payload);
    }

    #[test]
    fn an_item_without_a_payload_has_none_and_a_corrupt_one_is_an_error() {
        assert!(read(&Item::new()).unwrap().is_none());
        let corrupt = Item::from([(COMPRESSED.to_owned(), AttributeValue::B(Blob::new(vec![1, 2, 3])))]);
        assert!(read(&corrupt).is_err());
        // A bomb: decompressing past the payload limit is refused, not allocated.
        let bomb = zstd::bulk::compress(&vec![b' '; MAX_PAYLOAD_BYTES + 1], 1).unwrap();
        let bomb = Item::from([(COMPRESSED.to_owned(), AttributeValue::B(Blob::new(bomb)))]);
        assert!(read(&bomb).is_err());
    }
}
