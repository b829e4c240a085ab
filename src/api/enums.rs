//! The domain's closed sets of values as OpenAPI string enums: one schema
//! per set, named after it and described by its doc comment.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

use crate::domain::{
    AccessRequestStatus, EntryKind, EntryStatus, GroupRole, GroupStatus, MailKind, Network,
    OutboxStatus, Phase, PostStatus, Role, TextEnum,
};

fn schema<T: TextEnum>() -> MetaSchema {
    MetaSchema {
        description: Some(T::DESCRIPTION.trim()),
        enum_items: T::ALL
            .iter()
            .map(|value| Value::from(value.as_str()))
            .collect(),
        ..MetaSchema::new("string")
    }
}

fn parse_json<T: TextEnum + Type>(value: Option<Value>) -> ParseResult<T> {
    let value = value.unwrap_or_default();
    value
        .as_str()
        .and_then(T::parse)
        .ok_or_else(|| ParseError::expected_type(value))
}

macro_rules! openapi_enum {
    ($($name:ident),+ $(,)?) => {$(
        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference(Self::name().into_owned())
            }

            fn register(registry: &mut Registry) {
                registry.create_schema::<Self, _>(Self::name().into_owned(), |_| schema::<Self>());
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                parse_json(value)
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                <$name>::parse(value).ok_or_else(|| ParseError::custom("Expect a valid enumeration value."))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::from(self.as_str()))
            }
        }
    )+};
}

openapi_enum!(
    Role,
    GroupRole,
    GroupStatus,
    EntryKind,
    EntryStatus,
    AccessRequestStatus,
    MailKind,
    OutboxStatus,
    Phase,
    Network,
    PostStatus
);
