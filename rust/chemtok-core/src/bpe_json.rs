//! Reading a [`BpeSpec`] from a Hugging Face `tokenizer.json`, refusing what
//! [`ByteLevelBpe`](crate::ByteLevelBpe) does not reproduce exactly.
//!
//! The supported family: model `BPE` with `dropout` null, `byte_fallback` false, no
//! `continuing_subword_prefix` / `end_of_word_suffix`; no normalizer; decoder
//! `ByteLevel`; pre-tokenizer one of the three of [`PreTokenizer`]; every added token
//! `special` (they are decoded but never produced: the caller encodes literal special
//! text as plain text). Anything else is a `SpecError` saying which key does not fit,
//! so the caller keeps using `tokenizers` for it.

use serde_json::Value;

use crate::bpe::BpeSpec;
use crate::error::SpecError;
use crate::pretokenize::{PreTokenizer, LLAMA3_PATTERN};

fn refuse(key: &str, problem: impl std::fmt::Display) -> SpecError {
    SpecError(format!("{key}: {problem}"))
}

fn is_off(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        _ => false,
    }
}

fn byte_level(v: &Value, use_regex: bool) -> bool {
    v.get("type").and_then(Value::as_str) == Some("ByteLevel")
        && v.get("add_prefix_space").and_then(Value::as_bool) == Some(false)
        && v.get("use_regex").and_then(Value::as_bool).unwrap_or(true) == use_regex
}

fn pre_tokenizer(v: &Value) -> Option<PreTokenizer> {
    if byte_level(v, true) {
        return Some(PreTokenizer::Gpt2);
    }
    if v.get("type").and_then(Value::as_str) != Some("Sequence") {
        return None;
    }
    let steps = v.get("pretokenizers")?.as_array()?;
    let [first, second] = steps.as_slice() else { return None };
    let digits = first.get("type").and_then(Value::as_str) == Some("Digits")
        && first.get("individual_digits").and_then(Value::as_bool) == Some(true);
    if digits && byte_level(second, true) {
        return Some(PreTokenizer::DigitsGpt2);
    }
    let split = first.get("type").and_then(Value::as_str) == Some("Split")
        && first.pointer("/pattern/Regex").and_then(Value::as_str) == Some(LLAMA3_PATTERN)
        && first.get("behavior").and_then(Value::as_str) == Some("Isolated")
        && first.get("invert").and_then(Value::as_bool) == Some(false);
    (split && byte_level(second, false)).then_some(PreTokenizer::Llama3)
}

impl BpeSpec {
    /// The spec of a `tokenizer.json` text, or why it is outside the family.
    pub fn from_tokenizer_json(json: &str) -> Result<Self, SpecError> {
        let root: Value = serde_json::from_str(json).map_err(|e| refuse("tokenizer.json", e))?;
        let model = root.get("model").ok_or_else(|| refuse("model", "missing"))?;
        if model.get("type").and_then(Value::as_str) != Some("BPE") {
            return Err(refuse("model.type", "not BPE"));
        }
        for key in [
            "dropout",
            "byte_fallback",
            "continuing_subword_prefix",
            "end_of_word_suffix",
        ] {
            if !is_off(model.get(key)) {
                return Err(refuse(&format!("model.{key}"), format!("is {}", model[key])));
            }
        }
        if !is_off(root.get("normalizer")) {
            return Err(refuse("normalizer", "the native BPE has no normalizers"));
        }
        let decoder = root.get("decoder").unwrap_or(&Value::Null);
        if decoder.get("type").and_then(Value::as_str) != Some("ByteLevel") {
            return Err(refuse("decoder", "not ByteLevel"));
        }
        let pre = root.get("pre_tokenizer").unwrap_or(&Value::Null);
        let pre_tokenizer = pre_tokenizer(pre).ok_or_else(|| {
            refuse(
                "pre_tokenizer",
                "not ByteLevel (GPT-2), Digits + ByteLevel (chemtok) or the Llama 3 Split + ByteLevel",
            )
        })?;
        let vocab = model
            .get("vocab")
            .and_then(Value::as_object)
            .ok_or_else(|| refuse("model.vocab", "not an object"))?
            .iter()
            .map(|(token, id)| match id.as_u64().and_then(|id| u32::try_from(id).ok()) {
                Some(id) => Ok((token.clone(), id)),
                None => Err(refuse("model.vocab", format!("{token:?} has id {id}"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let merges = model
            .get("merges")
            .and_then(Value::as_array)
            .ok_or_else(|| refuse("model.merges", "not a list"))?
            .iter()
            .enumerate()
            .map(|(k, m)| merge(m).ok_or_else(|| refuse(&format!("model.merges[{k}]"), format!("not a pair: {m}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut added = Vec::new();
        for (k, token) in root
            .get("added_tokens")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let key = format!("added_tokens[{k}]");
            if token.get("special").and_then(Value::as_bool) != Some(true) {
                return Err(refuse(&key, "not special (tokenizers would match it inside text)"));
            }
            let id = token
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| u32::try_from(id).ok());
            let content = token.get("content").and_then(Value::as_str);
            match (id, content) {
                (Some(id), Some(content)) => added.push((id, content.to_owned())),
                _ => return Err(refuse(&key, "no id or content")),
            }
        }
        Ok(BpeSpec {
            pre_tokenizer,
            vocab,
            merges,
            ignore_merges: model.get("ignore_merges").and_then(Value::as_bool).unwrap_or(false),
            added,
        })
    }
}

/// A merge as `"left right"` (older files) or `["left", "right"]`.
fn merge(m: &Value) -> Option<(String, String)> {
    match m {
        Value::String(s) => {
            let (l, r) = s.split_once(' ')?;
            Some((l.to_owned(), r.to_owned()))
        }
        Value::Array(pair) => match pair.as_slice() {
            [Value::String(l), Value::String(r)] => Some((l.clone(), r.clone())),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ByteLevelBpe;

    fn shipped_model() -> String {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../chemtok/data/text_tokenizer.json");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_shipped_text_model_is_in_the_family() {
        let spec = BpeSpec::from_tokenizer_json(&shipped_model()).expect("spec");
        assert_eq!(spec.pre_tokenizer, PreTokenizer::DigitsGpt2);
        assert!(!spec.ignore_merges);
        let bpe = ByteLevelBpe::new(spec).expect("model");
        let text = "Aspirin inhibits COX-1 at 37 °C.\n\n";
        let mut back = Vec::new();
        bpe.decode_into(&bpe.encode(text), &mut back).expect("decode");
        assert_eq!(back, text.as_bytes());
    }

    #[test]
    fn models_outside_the_family_name_the_key() {
        let mut root: Value = serde_json::from_str(&shipped_model()).expect("json");
        root["normalizer"] = serde_json::json!({"type": "Lowercase"});
        let err = BpeSpec::from_tokenizer_json(&root.to_string()).expect_err("normalizer");
        assert!(err.0.starts_with("normalizer:"), "{}", err.0);
        root["normalizer"] = Value::Null;
        root["model"]["dropout"] = serde_json::json!(0.1);
        let err = BpeSpec::from_tokenizer_json(&root.to_string()).expect_err("dropout");
        assert!(err.0.starts_with("model.dropout:"), "{}", err.0);
        root["model"]["dropout"] = Value::Null;
        root["pre_tokenizer"] = serde_json::json!({"type": "Whitespace"});
        let err = BpeSpec::from_tokenizer_json(&root.to_string()).expect_err("pre_tokenizer");
        assert!(err.0.starts_with("pre_tokenizer:"), "{}", err.0);
    }

    #[test]
    fn merges_are_read_in_both_spellings() {
        assert_eq!(merge(&serde_json::json!("Ġ t")), Some(("Ġ".into(), "t".into())));
        assert_eq!(merge(&serde_json::json!(["Ġ", "t"])), Some(("Ġ".into(), "t".into())));
        assert_eq!(merge(&serde_json::json!(["Ġ"])), None);
    }
}
