//! Render keys: a hash of everything a page's template sees, so a rebuild
//! can tell, before rendering, that a page would come out as it is.
//!
//! The values are written in a compact binary form and hashed in one go:
//! JSON would do, but escaping every string of a 10,000-page site costs
//! more than the hash. The form only has to be unambiguous: each value
//! starts with a tag, strings end with a byte UTF-8 never uses, and
//! sequences and maps say how long they are or where they end.

use std::fmt::Write as _;

use serde::ser::{self, Serialize};

/// Serialises values into bytes that identify them.
#[derive(Debug, Default)]
pub struct KeyWriter {
    bytes: Vec<u8>,
}

/// Ends strings and the keys of maps: 0xff never occurs in UTF-8.
const END: u8 = 0xff;

#[derive(Debug)]
pub struct Unserialisable(String);

impl std::fmt::Display for Unserialisable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unserialisable {}

impl ser::Error for Unserialisable {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Unserialisable(message.to_string())
    }
}

impl KeyWriter {
    pub fn with_capacity(capacity: usize) -> KeyWriter {
        KeyWriter {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// Adds `value`; the same values in the same order give the same bytes.
    pub fn add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self)
    }

    /// The 64-bit key of everything added, seeded with `seed`.
    pub fn finish(&self, seed: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(&self.bytes, seed)
    }

    fn tag(&mut self, tag: u8) {
        self.bytes.push(tag);
    }

    fn text(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.bytes.push(END);
    }

    fn variant(&mut self, name: &str) {
        self.tag(b'v');
        self.text(name);
    }

    fn number(&mut self, tag: u8, bytes: [u8; 8]) -> Result<()> {
        self.tag(tag);
        self.bytes.extend_from_slice(&bytes);
        Ok(())
    }

    fn length(&mut self, length: Option<usize>) {
        match length {
            Some(length) => self.bytes.extend_from_slice(&(length as u64).to_le_bytes()),
            None => self.bytes.extend_from_slice(&u64::MAX.to_le_bytes()),
        }
    }
}

impl std::fmt::Write for KeyWriter {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.bytes.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

type Result<T> = std::result::Result<T, Unserialisable>;

/// Narrow numbers key as their wide kind: a value's key should not depend
/// on the width of the field that happens to hold it.
macro_rules! widen {
    ($($method:ident($narrow:ty) => $wide:ident($wide_ty:ty);)*) => {$(
        fn $method(self, v: $narrow) -> Result<()> {
            self.$wide(<$wide_ty>::from(v))
        }
    )*};
}

/// An enum variant keys as its name, then its contents as the plain kind.
macro_rules! variant_of {
    ($($method:ident => $plain:ident;)*) => {$(
        fn $method(
            self,
            _name: &'static str,
            _index: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Self> {
            self.variant(variant);
            self.$plain(Some(len))
        }
    )*};
}

impl ser::Serializer for &mut KeyWriter {
    type Ok = ();
    type Error = Unserialisable;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.tag(if v { b't' } else { b'f' });
        Ok(())
    }
    widen! {
        serialize_i8(i8) => serialize_i64(i64);
        serialize_i16(i16) => serialize_i64(i64);
        serialize_i32(i32) => serialize_i64(i64);
        serialize_u8(u8) => serialize_u64(u64);
        serialize_u16(u16) => serialize_u64(u64);
        serialize_u32(u32) => serialize_u64(u64);
        serialize_f32(f32) => serialize_f64(f64);
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.number(b'i', v.to_le_bytes())
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.number(b'u', v.to_le_bytes())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.number(b'd', v.to_bits().to_le_bytes())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        let mut buffer = [0; 4];
        self.serialize_str(v.encode_utf8(&mut buffer))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.tag(b's');
        self.text(v);
        Ok(())
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<()> {
        self.tag(b's');
        write!(self, "{value}").map_err(|_| Unserialisable("formatting failed".into()))?;
        self.bytes.push(END);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.tag(b'b');
        self.length(Some(v.len()));
        self.bytes.extend_from_slice(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.tag(b'n');
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.tag(b'n');
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.variant(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self> {
        self.tag(b'[');
        self.length(len);
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self> {
        self.tag(b'{');
        self.length(len);
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self> {
        self.serialize_map(Some(len))
    }
    variant_of! {
        serialize_tuple_variant => serialize_seq;
        serialize_struct_variant => serialize_map;
    }
}

/// Sequences and maps whose length was not known up front end with a tag.
fn close(writer: &mut KeyWriter) -> Result<()> {
    writer.tag(b'.');
    Ok(())
}

/// The compound serialisers write their parts in order (struct fields after
/// their names) and end with [`close`]; one macro keeps them from drifting.
macro_rules! compound {
    ($($trait:ident::$method:ident($($name:ident)?);)*) => {$(
        impl ser::$trait for &mut KeyWriter {
            type Ok = ();
            type Error = Unserialisable;
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($name: &'static str,)?
                value: &T,
            ) -> Result<()> {
                $(self.text($name);)?
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<()> {
                close(self)
            }
        }
    )*};
}

compound! {
    SerializeSeq::serialize_element();
    SerializeTuple::serialize_element();
    SerializeTupleStruct::serialize_field();
    SerializeTupleVariant::serialize_field();
    SerializeStruct::serialize_field(key);
    SerializeStructVariant::serialize_field(key);
}

impl ser::SerializeMap for &mut KeyWriter {
    type Ok = ();
    type Error = Unserialisable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<()> {
        close(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(value: &serde_json::Value) -> u64 {
        let mut writer = KeyWriter::default();
        writer.add(value).unwrap();
        writer.finish(0)
    }

    #[test]
    fn different_values_different_keys() {
        let values = [
            json!(null),
            json!(""),
            json!("a"),
            json!(["a"]),
            json!(["a", ""]),
            json!(["", "a"]),
            json!({"a": "b"}),
            json!({"ab": ""}),
            json!({"a": {"b": null}}),
            json!({"a": ["b"]}),
            json!(1),
            json!(1.0),
            json!(true),
            json!(false),
        ];
        let keys: std::collections::HashSet<u64> = values.iter().map(key).collect();
        assert_eq!(keys.len(), values.len());
        assert_eq!(key(&json!({"a": [1, "x"]})), key(&json!({"a": [1, "x"]})));
    }

    #[test]
    fn formatted_text_keys_like_the_same_string() {
        let mut formatted = KeyWriter::default();
        ser::Serializer::collect_str(&mut formatted, &format_args!("{} {}", 2, "Oct")).unwrap();
        let mut plain = KeyWriter::default();
        plain.add("2 Oct").unwrap();
        assert_eq!(formatted.finish(7), plain.finish(7));
    }
}
