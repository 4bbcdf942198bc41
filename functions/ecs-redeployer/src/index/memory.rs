//! The index table in memory, with DynamoDB's conditional-write semantics, for the tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Fut, IndexStore, Item};

#[derive(Debug, Default)]
pub struct MemoryStore {
    pub items: Mutex<BTreeMap<(String, String), Item>>,
}

impl MemoryStore {
    pub fn snapshot(&self) -> BTreeMap<(String, String), Item> {
        self.items.lock().expect("lock").clone()
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<(String, String), Item>) -> T) -> T {
        f(&mut self.items.lock().expect("lock"))
    }
}

impl IndexStore for MemoryStore {
    fn get<'a>(&'a self, pk: &'a str, sk: &'a str) -> Fut<'a, Option<Item>> {
        let found = self.with(|m| m.get(&(pk.to_owned(), sk.to_owned())).cloned());
        Box::pin(async move {
            tokio::task::yield_now().await;
            Ok(found)
        })
    }

    fn query<'a>(&'a self, pk: &'a str) -> Fut<'a, Vec<Item>> {
        let found = self.with(|m| {
            m.range((pk.to_owned(), String::new())..)
                .take_while(|((p, _), _)| p == pk)
                .map(|(_, i)| i.clone())
                .collect()
        });
        Box::pin(async move {
            tokio::task::yield_now().await;
            Ok(found)
        })
    }

    fn scan(&self) -> Fut<'_, Vec<Item>> {
        let all = self.with(|m| m.values().cloned().collect());
        Box::pin(async move { Ok(all) })
    }

    fn put_unless_newer(&self, item: Item) -> Fut<'_, bool> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            Ok(self.with(|m| {
                let key = (item.pk.clone(), item.sk.clone());
                if m.get(&key).is_some_and(|old| old.t > item.t) {
                    return false;
                }
                m.insert(key, item);
                true
            }))
        })
    }

    fn put_if(&self, item: Item, expected: Option<i64>) -> Fut<'_, bool> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            Ok(self.with(|m| {
                let key = (item.pk.clone(), item.sk.clone());
                if m.get(&key).map(|old| old.t) != expected {
                    return false;
                }
                m.insert(key, item);
                true
            }))
        })
    }

    fn delete_unless_newer<'a>(&'a self, pk: &'a str, sk: &'a str, t: i64) -> Fut<'a, bool> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            Ok(self.with(|m| {
                let key = (pk.to_owned(), sk.to_owned());
                if m.get(&key).is_some_and(|old| old.t > t) {
                    return false;
                }
                m.remove(&key);
                true
            }))
        })
    }
}
