//! The session dictionary: ordered like a Python `dict`, so the JSON is byte-for-byte Django's.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A session's data: string keys in insertion order, JSON values.
///
/// Like a Python `dict`, replacing a key keeps its position and removing one keeps the order of
/// the rest, so `{"b": 1, "a": 2}` encodes as Django encodes it. (Objects nested inside values
/// are `serde_json` maps, whose keys serialize sorted.)
#[derive(Clone, Default, PartialEq)]
pub struct SessionData(Vec<(String, Value)>);

impl fmt::Debug for SessionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Session values may be secrets (auth hashes, CSRF secrets): show only the keys.
        f.debug_set().entries(self.keys()).finish()
    }
}

impl SessionData {
    /// An empty session.
    pub fn new() -> Self {
        SessionData(Vec::new())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, keeping its position when it already exists.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// The keys, in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Key/value pairs, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for SessionData {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut d = SessionData::new();
        for (k, v) in iter {
            d.insert(k, v);
        }
        d
    }
}

impl Serialize for SessionData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SessionData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = SessionData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<SessionData, A::Error> {
                let mut data = SessionData::new();
                // A repeated key keeps its first position and its last value, as in Python.
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    data.insert(k, v);
                }
                Ok(data)
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_insertion_order_through_json() {
        let mut d = SessionData::new();
        d.insert("b", json!(1));
        d.insert("a", json!(2));
        d.insert("b", json!(3));
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(text, r#"{"b":3,"a":2}"#);
        let back: SessionData = serde_json::from_str(r#"{"z":1,"y":2,"z":5}"#).unwrap();
        assert_eq!(back.keys().collect::<Vec<_>>(), ["z", "y"]);
        assert_eq!(back.get("z"), Some(&json!(5)));
        assert!(serde_json::from_str::<SessionData>("[1]").is_err());
    }

    #[test]
    fn debug_hides_values() {
        let d: SessionData = [("token", json!("s3cret"))].into_iter().collect();
        assert!(!format!("{d:?}").contains("s3cret"));
    }
}
