//! Vault-style batches: `batch_input` items in, `batch_results` out, in order,
//! each echoing its `reference`; a failing item carries an error and does not
//! fail the others.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ErrorBody;

/// One item of a `batch_input`, read on its own: an item that is not what
/// the operation takes (a field missing, bad base64, a wrong type) becomes
/// that item's error instead of failing the whole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry<T> {
    /// The item, or why it could not be read.
    pub item: Result<T, BadItem>,
}

/// A `batch_input` item that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadItem {
    /// The item's `reference`, when it has a string one.
    pub reference: Option<String>,
    /// What is wrong with it.
    pub message: String,
}

impl<T> From<T> for BatchEntry<T> {
    fn from(item: T) -> Self {
        Self { item: Ok(item) }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for BatchEntry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let item = serde_json::from_str::<T>(raw.get()).map_err(|e| {
            #[derive(Deserialize)]
            struct Reference {
                #[serde(default)]
                reference: Option<serde_json::Value>,
            }
            let reference = serde_json::from_str::<Reference>(raw.get())
                .ok()
                .and_then(|r| r.reference)
                .and_then(|r| r.as_str().map(str::to_string));
            BadItem {
                reference,
                message: e.to_string(),
            }
        });
        Ok(Self { item })
    }
}

impl<T: Serialize> Serialize for BatchEntry<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.item {
            Ok(item) => item.serialize(s),
            Err(bad) => Err(serde::ser::Error::custom(format!(
                "a batch item that could not be read is not sent: {}",
                bad.message
            ))),
        }
    }
}

/// The answer to a batch request.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchResponse<T> {
    /// One result per input item, in input order.
    pub batch_results: Vec<BatchItem<T>>,
}

/// One result of a batch.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem<T> {
    /// The item's `reference`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The result when the item succeeded.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ok: Option<T>,
    /// The error when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The OpenAPI schema of the answer to an operation that takes
/// `batch_input`: the single answer `T`, or `{"batch_results": [...]}` whose
/// items are `T` plus the echoed `reference`, or `{"reference", "error"}`.
/// Documentation only: the server answers with `T` or [`BatchResponse`]
/// (whose derived schema cannot show the flattened, optional `T`).
#[cfg(feature = "openapi")]
#[derive(Debug)]
pub struct SingleOrBatch<T>(core::marker::PhantomData<T>);

#[cfg(feature = "openapi")]
impl<T: utoipa::ToSchema> utoipa::PartialSchema for SingleOrBatch<T> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Ref, Type,
        };
        let single = Ref::from_schema_name(T::name());
        let reference = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The item's `reference`, echoed."))
        };
        let ok = AllOfBuilder::new()
            .item(single.clone())
            .item(ObjectBuilder::new().property("reference", reference()));
        let failed = ObjectBuilder::new()
            .property("reference", reference())
            .property(
                "error",
                Ref::from_schema_name(<ErrorBody as utoipa::ToSchema>::name()),
            )
            .required("error");
        let batch = ObjectBuilder::new()
            .property(
                "batch_results",
                ArrayBuilder::new()
                    .items(OneOfBuilder::new().item(ok).item(failed))
                    .description(Some("One result per input item, in input order.")),
            )
            .required("batch_results");
        OneOfBuilder::new()
            .item(single)
            .item(batch)
            .description(Some(format!(
                "`{}`, or `{{\"batch_results\": [...]}}` for a request with `batch_input`.",
                T::name()
            )))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl<T: utoipa::ToSchema> utoipa::ToSchema for SingleOrBatch<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        format!("{}OrBatch", T::name()).into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((T::name().into(), T::schema()));
        T::schemas(schemas);
        schemas.push((ErrorBody::name().into(), ErrorBody::schema()));
    }
}
