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
        self.db.look_up(|connection| {
            let text: Option<String> = connection
                .prepare_cached("SELECT payload FROM events WHERE tenant = ?1 AND id = ?2")
                .map_err(backend)?
                .query_row(params![tenant, event_id], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            text.map(|text| RawValue::from_string(text).map_err(not_json)).transpose()
        })
    }

    async fn get_event(&self, tenant: &str, event_id: &str) -> Result<Option<Event>, StoreError> {
        let (tenant, event_id) = (tenant.to_owned(), event_id.to_owned());
        self.db
            .read(move |connection| {
                let row = connection
                    .prepare_cached(
                        "SELECT event_type, entity_id, payload, created_at FROM events WHERE tenant = ?1 AND id = ?2",
                    )
                    .map_err(backend)?
                    .query_row(params![tenant, event_id], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<String>>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    })
                    .optional()
                    .map_err(backend)?;
                let Some((event_type, entity, payload, created_at)) = row else { return Ok(None) };
                Ok(Some(Event {
                    tenant,
                    id: event_id,
                    event_type,
                    entity_id: entity.map(|text| from_json(&text)).transpose().map_err(backend)?,
                    payload: RawValue::from_string(payload).map_err(not_json)?,
                    created_at: Timestamp::from_millis(created_at),
                }))
            })
            .await
    }

    async fn list_events(&self, tenant: &str, query: &EventQuery) -> Result<Page<EventSummary>, StoreError> {
        let (tenant, query) = (tenant.to_owned(), query.clone());
        self.db
            .read(move |connection| {
                let (before_at, before_id) = match &query.before {
                    Some(cursor) => (Some(cursor.created_at.as_millis()), Some(cursor.id.clone())),
                    None => (None, None),
                };
                let events = connection
                    .prepare_cached(
                        "SELECT id, event_type, entity_id, created_at FROM events WHERE tenant = ?1 \
                         AND (?2 IS NULL OR event_type = ?2) AND (?3 IS NULL OR created_at >= ?3) \
                         AND (?4 IS NULL OR created_at < ?4 OR (created_at = ?4 AND id < ?5)) \
                         ORDER BY created_at DESC, id DESC LIMIT ?6",
                    )
                    .map_err(backend)?
                    .query_map(
                        params![
                            tenant,
                            query.event_type,
                            query.since.map(Timestamp::as_millis),
                            before_at,
                            before_id,
                            query.limit as i64 + 1
                        ],
                        |row| {
                            Ok(EventSummary {
                                id: row.get(0)?,
                                event_type: row.get(1)?,
                                entity_id: row.get::<_, Option<String>>(2)?.map(|text| from_json(&text)).transpose()?,
                                created_at: Timestamp::from_millis(row.get(3)?),
                            })
                        },
                    )
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(event_page(events, query.limit))
            })
            .await
    }
}

/// A stored payload that does not read back as JSON.
fn not_json(error: serde_json::Error) -> StoreError {
    StoreError::Backend(BackendError::caused_by("a stored payload is not JSON", error))
}
