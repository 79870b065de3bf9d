//! Opaque cursors: the last id of a page, encoded so that clients treat it as a token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

pub fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id)
}

/// The id inside a cursor, or `None` for a cursor this service did not make.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes).ok()
}

/// Splits `limit + 1` fetched items into a page and the cursor of the next one (the extra
/// item only tells that there is a next page).
pub fn into_page<T>(items: Vec<T>, limit: usize, id_of: impl Fn(&T) -> &str) -> crate::ports::Page<T> {
    into_page_by(items, limit, |item| id_of(item).to_owned())
}

/// [`into_page`] for items whose cursor is not one of their fields (`cursor_of` makes it).
fn into_page_by<T>(mut items: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> String) -> crate::ports::Page<T> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| encode_cursor(&cursor_of(last)))
    } else {
        None
    };
    crate::ports::Page { items, next_cursor }
}

/// [`into_page`] for events, whose cursor is their receive time and id.
pub fn event_page(
    events: Vec<crate::events::store::EventSummary>,
    limit: usize,
) -> crate::ports::Page<crate::events::store::EventSummary> {
    into_page_by(events, limit, |last| {
        crate::events::store::EventCursor { created_at: last.created_at, id: last.id.clone() }.to_text()
    })
}
