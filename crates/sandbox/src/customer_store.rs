//! Customers that were written. Everything else is generated on read, so memory grows with
//! writes only.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use serde_json::{Map, Value};

use super::customer_gen;

/// Bound on stored customers: a runaway write loop gets 507s, not an out-of-memory kill.
const MAX_STORED: usize = 200_000;

enum Entry {
    Live(Map<String, Value>),
    Deleted,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Ids created through the API, in creation order (listings show them after the base set).
    created: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WriteError<E> {
    /// Deleted (every other well-formed id exists).
    NotFound,
    Full,
    Rejected(E),
}

#[derive(Default)]
pub(crate) struct CustomerStore {
    inner: RwLock<Inner>,
}

impl CustomerStore {
    /// `true` while the fixture customer was never written, so the fixture bytes can be served.
    pub(crate) fn is_untouched(&self, id: &str) -> bool {
        !self.read(|inner| inner.entries.contains_key(id))
    }

    /// The current customer, or `None` once deleted.
    pub(crate) fn get(&self, id: &str) -> Option<Map<String, Value>> {
        let stored = self.read(|inner| match inner.entries.get(id) {
            Some(Entry::Live(c)) => Some(Some(c.clone())),
            Some(Entry::Deleted) => Some(None),
            None => None,
        });
        match stored {
            Some(current) => current,
            None => Some(customer_gen::base_customer(id)),
        }
    }

    pub(crate) fn insert_new(
        &self,
        id: String,
        customer: Map<String, Value>,
    ) -> Result<(), WriteError<()>> {
        self.write(|inner| {
            if inner.entries.len() >= MAX_STORED {
                return Err(WriteError::Full);
            }
            inner.created.push(id.clone());
            inner.entries.insert(id, Entry::Live(customer));
            Ok(())
        })
    }

    /// Applies `change` to the current customer atomically and returns the result.
    pub(crate) fn modify<E>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Map<String, Value>) -> Result<(), E>,
    ) -> Result<Map<String, Value>, WriteError<E>> {
        self.write(|inner| {
            let mut current = match inner.entries.get(id) {
                Some(Entry::Live(c)) => c.clone(),
                Some(Entry::Deleted) => return Err(WriteError::NotFound),
                None if inner.entries.len() >= MAX_STORED => return Err(WriteError::Full),
                None => customer_gen::base_customer(id),
            };
            change(&mut current).map_err(WriteError::Rejected)?;
            inner
                .entries
                .insert(id.to_owned(), Entry::Live(current.clone()));
            Ok(current)
        })
    }

    /// Marks the customer deleted; `NotFound` when it already was.
    pub(crate) fn delete(&self, id: &str) -> Result<(), WriteError<()>> {
        self.write(|inner| match inner.entries.get(id) {
            Some(Entry::Deleted) => Err(WriteError::NotFound),
            None if inner.entries.len() >= MAX_STORED => Err(WriteError::Full),
            _ => {
                inner.entries.insert(id.to_owned(), Entry::Deleted);
                Ok(())
            }
        })
    }

    pub(crate) fn is_deleted(&self, id: &str) -> bool {
        self.read(|inner| matches!(inner.entries.get(id), Some(Entry::Deleted)))
    }

    pub(crate) fn created_ids(&self) -> Vec<String> {
        self.read(|inner| inner.created.clone())
    }

    fn read<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        // A panic elsewhere while holding the lock must not take the whole sandbox down.
        f(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn write<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.write().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer_gen::{sequence_id, FIXTURE_CUSTOMER_ID};

    #[test]
    fn reads_do_not_store_and_writes_stick() {
        let store = CustomerStore::default();
        let id = sequence_id("store-test", 1);
        assert_eq!(store.get(&id), store.get(&id));
        assert!(store.is_untouched(&id));
        let changed = store
            .modify::<()>(&id, |c| {
                c.insert("description".into(), Value::String("changed".into()));
                Ok(())
            })
            .expect("modifiable");
        assert_eq!(changed["description"], "changed");
        assert_eq!(store.get(&id).expect("live")["description"], "changed");
        assert!(!store.is_untouched(&id));
        assert!(store.is_untouched(FIXTURE_CUSTOMER_ID));
    }

    #[test]
    fn deleted_customers_stay_deleted() {
        let store = CustomerStore::default();
        let id = sequence_id("store-test", 2);
        assert_eq!(store.delete(&id), Ok(()));
        assert_eq!(store.get(&id), None);
        assert_eq!(store.delete(&id), Err(WriteError::NotFound));
        let err = store.modify::<()>(&id, |_| Ok(())).expect_err("deleted");
        assert_eq!(err, WriteError::NotFound);
    }
}
