//! Reading helpers the PHP-based detectors share: a PHP config file parsed with errors
//! that name it, the package versions of a `composer.lock`, and include paths evaluated
//! the way PHP would build them (`__DIR__`, `dirname()`, `$app_root`, …).

use std::path::{Path, PathBuf};

use super::DetectError;
use crate::fsutil;
use crate::syntax::php::{self, Expr};

/// The parent of `dir` as the user would write it (`a/b` → `a`, `.` → `..`).
pub fn parent_dir(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p)
            if !p.as_os_str().is_empty()
                && matches!(
                    dir.components().next_back(),
                    Some(std::path::Component::Normal(_))
                ) =>
        {
            p.to_path_buf()
        }
        _ => dir.join(".."),
    }
}

/// Read and parse a PHP file, with `planned` (apply's in-memory content for `path`, read
/// back by the post-condition) in place of the file on disk when it is given; failures
/// become `errors` entries naming the file.
pub fn load_php(
    path: &Path,
    planned: Option<&str>,
    errors: &mut Vec<DetectError>,
) -> Option<Vec<php::Stmt>> {
    let read;
    let text = match planned {
        Some(t) => t,
        None => match fsutil::read_config(path) {
            Ok(t) => {
                read = t;
                &read
            }
            Err(e) => {
                errors.push(DetectError::from_err(path, &e));
                return None;
            }
        },
    };
    match php::parse(text) {
        Ok(stmts) => Some(stmts),
        Err(e) => {
            errors.push(DetectError::new(
                path,
                format!("line {}: cannot parse PHP: {}", e.line, e.message),
            ));
            None
        }
    }
}

/// The parts of a `composer.lock` rcfg reads: package names and versions. Parsed into this
/// typed form (everything else is skipped, not built), once per site.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ComposerLock {
    #[serde(default)]
    packages: Vec<LockedPackage>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Vec<LockedPackage>,
}

#[derive(Debug, serde::Deserialize)]
struct LockedPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

impl ComposerLock {
    /// Read `lock`; `None` when it does not exist or cannot be read (then the problem is in
    /// `errors`).
    pub fn read(lock: &Path, errors: &mut Vec<DetectError>) -> Option<ComposerLock> {
        let text = match fsutil::read_config_opt(lock) {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => {
                errors.push(DetectError::from_err(lock, &e));
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(l) => Some(l),
            Err(e) => {
                errors.push(DetectError::new(
                    lock,
                    format!("line {}: not a valid composer.lock: {e}", e.line()),
                ));
                None
            }
        }
    }

    /// The version of the first of `names` that is locked (`v` prefix dropped).
    pub fn version(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|name| {
            self.packages
                .iter()
                .chain(&self.packages_dev)
                .find(|p| p.name == *name)
                .and_then(|p| p.version.as_deref())
                .map(|v| v.trim_start_matches('v').to_string())
        })
    }
}

/// What a PHP include path may refer to: the including file's directory (`__DIR__`,
/// `dirname(__FILE__)`), and named variables/constants (`$app_root`, `DRUPAL_ROOT`, …).
pub struct PathCtx {
    pub file: PathBuf,
    pub vars: Vec<(String, String)>,
    pub consts: Vec<(String, String)>,
}

impl PathCtx {
    pub fn for_file(file: &Path) -> PathCtx {
        PathCtx {
            file: file.to_path_buf(),
            vars: Vec::new(),
            consts: Vec::new(),
        }
    }

    fn dir(&self) -> String {
        let d = parent_dir(&self.file);
        d.to_string_lossy().into_owned()
    }
}

/// Evaluate an include path expression to a string: literals, `.` concatenation, `__DIR__`,
/// `__FILE__`, `dirname(…)`, and the variables/constants of `ctx`. `None` when anything else
/// is involved.
pub fn eval_path(e: &Expr, ctx: &PathCtx) -> Option<String> {
    match e {
        Expr::Str(s) => Some(s.clone()),
        Expr::Int(i) => Some(i.to_string()),
        Expr::Const(c) if c == "__DIR__" => Some(ctx.dir()),
        Expr::Const(c) if c == "__FILE__" => Some(ctx.file.to_string_lossy().into_owned()),
        Expr::Const(c) => ctx
            .consts
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, v)| v.clone()),
        Expr::Var { name, path } if path.is_empty() => ctx
            .vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone()),
        Expr::Binary {
            op: ".",
            left,
            right,
        } => Some(format!(
            "{}{}",
            eval_path(left, ctx)?,
            eval_path(right, ctx)?
        )),
        Expr::Call { name, args }
            if name
                .trim_start_matches('\\')
                .eq_ignore_ascii_case("dirname") =>
        {
            let inner = eval_path(args.first()?, ctx)?;
            let levels = args.get(1).and_then(Expr::as_int).unwrap_or(1).max(1);
            let mut p = PathBuf::from(inner);
            for _ in 0..levels {
                p = parent_dir(&p);
            }
            Some(p.to_string_lossy().into_owned())
        }
        _ => None,
    }
}

/// Tidy a path built by string concatenation: drop `.` components and doubled slashes
/// (`a/./b//c` → `a/b/c`), keep `..` (the user's relative path stays as given).
pub fn tidy_path(p: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in Path::new(p).components() {
        match c {
            std::path::Component::CurDir if !out.as_os_str().is_empty() => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
