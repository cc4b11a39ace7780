//! What exchanges are decided on — clients, services, grants and maintenance windows — kept between requests under
//! the store's access revision (migration `0014_access_revision`).
//!
//! Every request reads the revision, one small row, instead of the client, the service and the
//! grants. Any change to the tables they come from moves the revision, so a suspension, a
//! revoked client or a retired service still counts from the very next request on every node:
//! a request only ever uses what was read at the revision it saw, or later.
//!
//! Requests arriving together share one read of the revision, as leaves share a commit: one
//! task reads it for every request waiting when the read starts, so each request's answer was
//! read after it arrived.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use lgsp_core::exchange::{Grant, Target};
use lgsp_core::service::{ServiceCode, ServiceVersion};
use lgsp_core::SystemId;
use lgsp_store::{Client, MaintenanceWindow, Service, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::error::{ApiError, ErrorCode};

/// Entries kept per kind; past that the kind starts again empty (a province has hundreds of
/// clients and services, not tens of thousands).
const MAX_ENTRIES: usize = 10_000;

type ServiceKey = (SystemId, ServiceCode, ServiceVersion);

#[derive(Default)]
struct Kept {
    revision: i64,
    clients: HashMap<String, Option<Client>>,
    services: HashMap<ServiceKey, Option<Arc<Service>>>,
    grants: HashMap<(SystemId, Target), Arc<[Grant]>>,
    maintenance: HashMap<Target, Arc<[MaintenanceWindow]>>,
}

/// A request waiting for the next read of the revision.
type Waiter = oneshot::Sender<Result<i64, String>>;

/// A node's copy of what it last read, and the revision it is true at.
pub struct AccessCache {
    kept: Mutex<Kept>,
    reads: mpsc::Sender<Waiter>,
}

impl AccessCache {
    /// Starts the task reading revisions on the current runtime.
    pub fn start(store: Store) -> Self {
        let (reads, waiting) = mpsc::channel(4096);
        tokio::spawn(read_revisions(store, waiting));
        Self {
            kept: Mutex::default(),
            reads,
        }
    }

    /// What is true now: reads the revision, forgetting everything kept when it moved.
    pub async fn current<'a>(&'a self, store: &'a Store) -> Result<Access<'a>, ApiError> {
        let unavailable = |error: String| {
            tracing::error!(error = %error, "cannot read the access revision");
            ApiError::new(ErrorCode::StorageUnavailable)
        };
        let (waiter, read) = oneshot::channel();
        self.reads
            .send(waiter)
            .await
            .map_err(|_| unavailable("the revision reader has stopped".into()))?;
        let revision = read
            .await
            .map_err(|_| unavailable("the revision reader has stopped".into()))?
            .map_err(unavailable)?;
        let mut kept = self.lock();
        if revision > kept.revision {
            *kept = Kept {
                revision,
                ..Kept::default()
            };
        }
        Ok(Access {
            cache: self,
            store,
            revision,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        // Nothing kept can be left half-written by a panic: every update is one insert.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads the revision for every request waiting when the read starts, one read at a time, on
/// a connection kept for it (taken again after an error).
async fn read_revisions(store: Store, mut waiting: mpsc::Receiver<Waiter>) {
    let mut batch = Vec::new();
    let mut reader = None;
    while waiting.recv_many(&mut batch, 4096).await > 0 {
        let read = async {
            let held = match &mut reader {
                Some(held) => held,
                None => reader.insert(store.revision_reader().await?),
            };
            held.read().await
        }
        .await
        .map_err(|e| {
            reader = None;
            format!("{e:?}")
        });
        for waiter in batch.drain(..) {
            // A request that went away no longer needs it.
            let _ = waiter.send(read.clone());
        }
    }
}

/// Reads as of one access revision: from the cache, or from the store and then kept.
#[derive(Clone, Copy)]
pub struct Access<'a> {
    cache: &'a AccessCache,
    store: &'a Store,
    revision: i64,
}

impl Access<'_> {
    /// The client `client_id`, or `None` when it does not exist.
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let key = client_id.to_owned();
        self.read(
            |kept| &mut kept.clients,
            key,
            || async move {
                match self.store.get_client(client_id).await {
                    Ok(client) => Ok(Some(client)),
                    Err(StoreError::NotFound(_)) => Ok(None),
                    Err(other) => Err(other),
                }
            },
        )
        .await
    }

    /// The service `code` `version` of the system `provider`, in whatever state it is.
    pub async fn service(
        &self,
        provider: &SystemId,
        code: &ServiceCode,
        version: &ServiceVersion,
    ) -> Result<Option<Arc<Service>>, StoreError> {
        let key = (provider.clone(), code.clone(), version.clone());
        self.read(
            |kept| &mut kept.services,
            key,
            || async move {
                let found = self.store.find_service(provider, code, version).await?;
                Ok(found.map(Arc::new))
            },
        )
        .await
    }

    /// The grants `consumer` holds on `target`, in any status.
    pub async fn grants(
        &self,
        consumer: &SystemId,
        target: &Target,
    ) -> Result<Arc<[Grant]>, StoreError> {
        let key = (consumer.clone(), target.clone());
        self.read(
            |kept| &mut kept.grants,
            key,
            || async move { Ok(self.store.grants_for(consumer, target).await?.into()) },
        )
        .await
    }

    /// The maintenance windows announced on `target` and not cancelled; whether one covers a
    /// request is decided by its time (`provider::maintenance::check_open`).
    pub async fn maintenance(
        &self,
        target: &Target,
    ) -> Result<Arc<[MaintenanceWindow]>, StoreError> {
        self.read(
            |kept| &mut kept.maintenance,
            target.clone(),
            || async move { Ok(self.store.maintenance_for(target).await?.into()) },
        )
        .await
    }

    /// The kept value at `key` when the cache holds this revision or a later one; otherwise
    /// `load`s it, keeping it only if the cache is still at this request's revision (what was
    /// read may be newer than the revision, never older).
    async fn read<K, V, F, Fut>(
        &self,
        kind: fn(&mut Kept) -> &mut HashMap<K, V>,
        key: K,
        load: F,
    ) -> Result<V, StoreError>
    where
        K: Eq + Hash,
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, StoreError>>,
    {
        {
            let mut kept = self.cache.lock();
            if kept.revision >= self.revision {
                if let Some(value) = kind(&mut kept).get(&key) {
                    return Ok(value.clone());
                }
            }
        }
        let value = load().await?;
        let mut kept = self.cache.lock();
        if kept.revision == self.revision {
            let map = kind(&mut kept);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, value.clone());
        }
        Ok(value)
    }
}
