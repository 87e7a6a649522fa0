//! Rendering: the handlebars registry over the templates embedded from `templates/` (by
//! `build.rs`), in strict mode (a missing variable is an error, never an empty string) and
//! without HTML escaping. Helpers quote values for the target language: `php_str` (a PHP
//! single-quoted literal), `js_str` (a JS/JSON string literal).

use anyhow::{Context, Result};
use handlebars::{
    Context as HbContext, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Serialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// The embedded templates, registered once.
pub struct Templates {
    hb: Handlebars<'static>,
}

/// `'…'` with `\` and `'` escaped, as PHP reads single-quoted strings.
pub fn php_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A JS string literal (JSON string syntax, which JS and TS accept).
pub fn js_quote(s: &str) -> String {
    serde_json::to_string(s).expect("string serialises")
}

fn quote_helper(
    quote: fn(&str) -> String,
) -> impl Fn(&Helper, &Handlebars, &HbContext, &mut RenderContext, &mut dyn Output) -> HelperResult
+ Send
+ Sync {
    move |h, _, _, _, out| {
        let param = h.param(0).ok_or_else(|| {
            RenderError::from(RenderErrorReason::ParamNotFoundForIndex("quote", 0))
        })?;
        let text = match param.value() {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.write(&quote(&text))?;
        Ok(())
    }
}

impl Templates {
    pub fn load() -> Result<Templates> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper("php_str", Box::new(quote_helper(php_quote)));
        hb.register_helper("js_str", Box::new(quote_helper(js_quote)));
        for (name, text) in embedded::TEMPLATES {
            hb.register_template_string(name, *text)
                .with_context(|| format!("template templates/{name}.hbs does not compile"))?;
        }
        Ok(Templates { hb })
    }

    /// Render template `name` (its path below `templates/` without `.hbs`).
    pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String> {
        self.hb
            .render(name, data)
            .with_context(|| format!("rendering templates/{name}.hbs"))
    }

    #[cfg(test)]
    pub fn names(&self) -> Vec<&str> {
        let mut n: Vec<&str> = self.hb.get_templates().keys().map(String::as_str).collect();
        n.sort_unstable();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_for_each_language() {
        assert_eq!(php_quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(js_quote("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn every_embedded_template_compiles() {
        let t = Templates::load().unwrap();
        assert_eq!(t.names().len(), embedded::TEMPLATES.len());
    }
}
