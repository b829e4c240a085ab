//! How the domain's closed sets ([`TextEnum`]) are stored: as their text.
//! A stored value outside the set is a database error, never a silent default.

use sea_orm::sea_query::{
    ArrayType, ColumnType, Nullable, StringLen, Value, ValueType, ValueTypeErr,
};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable};

use crate::domain::{
    AccessRequestStatus, Action, Attendance, DeliveryKind, DeliveryStatus, EntryKind, EntryStatus,
    EventStatus, GroupRole, GroupStatus, MailKind, Network, OutboxStatus, Phase, PostStatus, Role,
    StatsDimension, TextEnum, TokenPurpose,
};

fn read<T: TextEnum>(text: &str, type_name: &str) -> Result<T, DbErr> {
    T::parse(text).ok_or_else(|| DbErr::Type(format!("{text:?} is not a {type_name}")))
}

/// The sea-orm conversions of each set, so that models hold domain values.
macro_rules! stored_as_text {
    ($($name:ident),+ $(,)?) => {$(
        impl From<$name> for Value {
            fn from(value: $name) -> Self {
                Value::String(Some(value.as_str().to_owned()))
            }
        }

        impl Nullable for $name {
            fn null() -> Value {
                Value::String(None)
            }
        }

        impl ValueType for $name {
            fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
                let text = <String as ValueType>::try_from(value)?;
                $name::parse(&text).ok_or(ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($name).to_owned()
            }

            fn array_type() -> ArrayType {
                ArrayType::String
            }

            fn column_type() -> ColumnType {
                ColumnType::String(StringLen::None)
            }
        }

        impl TryGetable for $name {
            fn try_get_by<I: ColIdx>(result: &QueryResult, index: I) -> Result<Self, TryGetError> {
                let text = <String as TryGetable>::try_get_by(result, index)?;
                read(&text, stringify!($name)).map_err(TryGetError::DbErr)
            }
        }
    )+};
}

stored_as_text!(
    AccessRequestStatus,
    Action,
    Attendance,
    DeliveryKind,
    DeliveryStatus,
    EntryKind,
    EntryStatus,
    EventStatus,
    GroupRole,
    GroupStatus,
    MailKind,
    Network,
    OutboxStatus,
    Phase,
    PostStatus,
    Role,
    StatsDimension,
    TokenPurpose,
);
