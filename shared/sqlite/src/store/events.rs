//! The [`EventStore`] port on SQLite: events, stored once.

use super::*;

impl EventStore for SqliteStore {
    async fn record_event(&self, event: &Event, message_id: &str) -> Result<EventRecord, StoreError> {
        let values = (
            event.tenant.clone(),
            event.id.clone(),
            event.event_type.clone(),
            event.entity_id.as_ref().map(to_json),
            event.payload.get().to_owned(),
            message_id.to_owned(),
            event.created_at.as_millis(),
        );
        self.db
            .write(move |connection| {
                let inserted = connection
                    .prepare_cached(
                        "INSERT INTO events (tenant, id, event_type, entity_id, payload, message_id, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    )
                    .map_err(backend)?
                    .execute(params![values.0, values.1, values.2, values.3, values.4, values.5, values.6])
                    .map_err(backend)?;
                if inserted == 1 {
                    return Ok(EventRecord::New);
                }
                let first_message: String = connection
                    .prepare_cached("SELECT message_id FROM events WHERE tenant = ?1 AND id = ?2")
                    .map_err(backend)?
                    .query_row(params![values.0, values.1], |row| row.get(0))
                    .map_err(backend)?;
                Ok(if first_message == values.5 { EventRecord::SameMessage } else { EventRecord::Duplicate })
            })
            .await
    }

    async fn event_payload(&self, tenant: &str, event_id: &str) -> Result<Option<Box<RawValue>>, StoreError> {
        let (tenant, event_id) = (tenant.to_owned(), event_id.to_owned());
        self.db
            .read(move |connection| {
                let text: Option<String> = connection
                    .prepare_cached("SELECT payload FROM events WHERE tenant = ?1 AND id = ?2")
                    .map_err(backend)?
                    .query_row(params![tenant, event_id], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                text.map(|text| RawValue::from_string(text).map_err(|e| StoreError::Backend(e.to_string()))).transpose()
            })
            .await
    }
}
