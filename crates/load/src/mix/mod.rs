//! What is sent: weighted request templates with variables from data files.
mod csv;
mod data;
mod template;

pub use csv::parse_csv;
pub use data::{DataSource, RowOrder};
pub use template::{
    BUILTINS, DEFAULT_PATH, RenderedRequest, RequestMix, Template, TemplateSpec, Tpl, WireTarget,
    single_get_name,
};
