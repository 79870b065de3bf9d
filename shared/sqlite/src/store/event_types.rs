//! The [`EventTypeStore`] port on SQLite: a tenant's own event types.

use webhooks::events::store::EventTypeStore;
use webhooks::events::types::EventTypeDef;

use super::*;

const COLUMNS: &str = "tenant, name, description, family, schema, archived, created_at, updated_at, version";

fn event_type_from_row(row: &Row<'_>) -> rusqlite::Result<EventTypeDef> {
    Ok(EventTypeDef {
        tenant: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        family: row.get(3)?,
        schema: row.get::<_, Option<String>>(4)?.map(|text| from_json(&text)).transpose()?,
        archived: row.get(5)?,
        created_at: Timestamp::from_millis(row.get(6)?),
        updated_at: Timestamp::from_millis(row.get(7)?),
        version: row.get::<_, i64>(8)? as u64,
    })
}

fn event_type_values(def: &EventTypeDef) -> [Value; 9] {
    [
        Value::Text(def.tenant.clone()),
        Value::Text(def.name.clone()),
        Value::Text(def.description.clone()),
        def.family.clone().map_or(Value::Null, Value::Text),
        def.schema.as_ref().map_or(Value::Null, |schema| Value::Text(to_json(schema))),
        Value::Integer(def.archived as i64),
        Value::Integer(def.created_at.as_millis()),
        Value::Integer(def.updated_at.as_millis()),
        Value::Integer(def.version as i64),
    ]
}

fn select(connection: &Connection, tenant: &str, name: &str) -> Result<Option<EventTypeDef>, StoreError> {
    connection
        .prepare_cached(&format!("SELECT {COLUMNS} FROM event_types WHERE tenant = ?1 AND name = ?2"))
        .map_err(backend)?
        .query_row(params![tenant, name], event_type_from_row)
        .optional()
        .map_err(backend)
}

impl EventTypeStore for SqliteStore {
    async fn create_event_type(&self, def: &EventTypeDef) -> Result<(), StoreError> {
        let def = def.clone();
        self.db
            .write(move |connection| {
                let inserted = connection
                    .prepare_cached(&format!(
                        "INSERT OR IGNORE INTO event_types ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                    ))
                    .map_err(backend)?
                    .execute(params_from_iter(event_type_values(&def)))
                    .map_err(backend)?;
                if inserted == 0 { Err(StoreError::Conflict("this event type exists".into())) } else { Ok(()) }
            })
            .await
    }

    async fn get_event_type(&self, tenant: &str, name: &str) -> Result<Option<EventTypeDef>, StoreError> {
        self.db.look_up(|connection| select(connection, tenant, name))
    }

    async fn list_event_types(&self, tenant: &str) -> Result<Vec<EventTypeDef>, StoreError> {
        let tenant = tenant.to_owned();
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(&format!("SELECT {COLUMNS} FROM event_types WHERE tenant = ?1 ORDER BY name"))
                    .map_err(backend)?
                    .query_map(params![tenant], event_type_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)
            })
            .await
    }

    async fn update_event_type(&self, def: &EventTypeDef) -> Result<EventTypeDef, StoreError> {
        let mut def = def.clone();
        self.db
            .write(move |connection| {
                let read_version = def.version;
                def.version += 1;
                let values = event_type_values(&def);
                let updated = connection
                    .prepare_cached(
                        "UPDATE event_types SET description = ?3, family = ?4, schema = ?5, archived = ?6, \
                         created_at = ?7, updated_at = ?8, version = ?9 \
                         WHERE tenant = ?1 AND name = ?2 AND version = ?10",
                    )
                    .map_err(backend)?
                    .execute(params_from_iter(values.into_iter().chain([Value::Integer(read_version as i64)])))
                    .map_err(backend)?;
                if updated == 1 {
                    return Ok(def);
                }
                match select(connection, &def.tenant, &def.name)? {
                    None => Err(StoreError::NotFound),
                    Some(_) => Err(StoreError::Conflict("the event type was changed meanwhile".into())),
                }
            })
            .await
    }

    async fn delete_event_type(&self, tenant: &str, name: &str) -> Result<(), StoreError> {
        let (tenant, name) = (tenant.to_owned(), name.to_owned());
        self.db
            .write(move |connection| {
                let deleted = connection
                    .prepare_cached("DELETE FROM event_types WHERE tenant = ?1 AND name = ?2")
                    .map_err(backend)?
                    .execute(params![tenant, name])
                    .map_err(backend)?;
                if deleted == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }
}
