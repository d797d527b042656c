//! Collections: one page (`$top`/`$skip`) or every page as a stream.
//!
//! XAPI declares no `@odata.nextLink`, so paging is done by the client: request
//! `page_size` entities at increasing `$skip` until a short page comes back.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::XapiClient;
use crate::error::{Error, Result};
use crate::odata::{Direction, Query};

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The entities on this page.
    pub items: Vec<T>,
    /// `@odata.count`: all matching entities, when `$count=true` was asked.
    pub count: Option<u64>,
}

#[derive(Deserialize)]
struct CollectionBody<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.count", default)]
    count: Option<u64>,
}

struct Cursor {
    query: Query,
    /// `$skip` of the next request.
    offset: u64,
    /// Entities still wanted (the caller's `$top`), `None` for all.
    remaining: Option<u64>,
    done: bool,
}

impl XapiClient {
    /// `GET {set}` with `query`, as one page.
    pub(crate) async fn get_page<T>(&self, set: &str, query: &Query) -> Result<Page<T>>
    where
        T: DeserializeOwned,
    {
        let body: CollectionBody<T> = self.get_json(set, Some(query)).await?;
        Ok(Page {
            items: body.value,
            count: body.count,
        })
    }

    /// Every entity of `set` matching `query`, fetched page by page as the stream is
    /// polled. The query's own `$skip` is where paging starts and its `$top` caps the
    /// total. Without an `$orderby`, `Id` is used so pages do not overlap.
    pub(crate) fn stream_all<T>(
        &self,
        set: &'static str,
        query: Query,
    ) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let query = match query.is_ordered() {
            true => query,
            false => query.order_by("Id", Direction::Asc),
        };
        let cursor = Cursor {
            offset: query.skip_value().unwrap_or(0),
            remaining: query.top_value(),
            query,
            done: false,
        };
        let client = self.clone();
        let page_size = self.page_size();
        stream::try_unfold(cursor, move |mut cursor| {
            let client = client.clone();
            async move {
                if cursor.done || cursor.remaining == Some(0) {
                    return Ok::<_, Error>(None);
                }
                let want = cursor.remaining.map_or(page_size, |r| r.min(page_size));
                let query = cursor.query.clone().skip(cursor.offset).top(want);
                let page: Page<T> = client.get_page(set, &query).await?;
                let got = page.items.len() as u64;
                cursor.offset += got;
                cursor.remaining = cursor.remaining.map(|r| r.saturating_sub(got));
                // A short page is the last one; an empty page also guards against a
                // server that ignores `$skip` and would otherwise loop forever.
                cursor.done = got < want || got == 0;
                Ok(Some((page.items, cursor)))
            }
        })
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}
