//! Writing images: one transaction per image, so a scan killed half way leaves nothing half-written.

use crate::StoreError;
use crate::ids::{image_id, key};
use crate::model::{NewImage, StoredPackage};
use crate::store::{BATCH, Store, now, values};
use palisade_core::{OsInfo, Package};
use palisade_vulndb::ecosystem::match_key;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashSet;

/// zstd level of stored SBOMs (level 9: a third smaller than the default for the same read speed).
const SBOM_LEVEL: i32 = 9;

/// A package as matching needs it: no locations, licences, dependencies or metadata; the OS only for OS
/// packages (language packages match the same way on every OS, so they are stored once).
fn stored(pkg: &Package, os: Option<&OsInfo>) -> StoredPackage {
    let mut package = pkg.clone();
    package.locations.clear();
    package.licenses.clear();
    package.dependencies.clear();
    package.metadata.clear();
    let os = pkg.ecosystem.is_os().then(|| os.cloned()).flatten().map(|o| OsInfo {
        id: o.id,
        version_id: o.version_id,
        codename: o.codename,
        ..OsInfo::default()
    });
    StoredPackage { package, os }
}

/// One distinct matchable package: (id, ecosystem key, name key, purl, JSON).
type PackageRow = (i64, String, String, String, String);

/// The matchable packages of an image, each once.
pub(crate) fn package_rows(os: Option<&OsInfo>, packages: &[Package]) -> Result<Vec<PackageRow>, String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in packages {
        let Some(k) = match_key(os, p) else { continue };
        let id = key(&["pkg", &k.ecosystem, &k.name, &k.version, &p.purl]);
        if !seen.insert(id) {
            continue;
        }
        let data = serde_json::to_string(&stored(p, os)).map_err(|e| format!("package {}: {e}", p.purl))?;
        out.push((id, k.ecosystem, k.name, p.purl.clone(), data));
    }
    Ok(out)
}

impl Store {
    /// Whether the image (manifest digest) is stored.
    pub fn has_image(&self, digest: &str) -> Result<bool, StoreError> {
        let id = image_id(digest);
        let rows =
            self.fetch_all("looking up an image", "SELECT 1 FROM images WHERE id = $1".into(), |q| {
                q.bind(id)
            })?;
        Ok(!rows.is_empty())
    }

    /// Record that `repository:tags` still point at a stored image (a scan that skipped it).
    pub fn touch_image(&self, digest: &str, repository: &str, tags: &[String]) -> Result<(), StoreError> {
        let id = image_id(digest);
        let t = now();
        self.rt
            .block_on(async {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE images SET last_seen = $1 WHERE id = $2")
                    .bind(&t)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for tag in tags {
                    upsert_tag(&mut tx, repository, tag, id, &t).await?;
                }
                tx.commit().await
            })
            .map_err(self.sql_err(format!("updating tags of {repository}@{digest}")))
    }

    /// Store one image in one transaction. An image already stored keeps its rows (its tags are updated).
    pub fn put_image(&self, img: &NewImage) -> Result<i64, StoreError> {
        let id = image_id(&img.digest);
        let what = format!("{}@{} ({})", img.repository, img.digest, img.platform);
        let rows = package_rows(img.os.as_ref(), &img.packages).map_err(|m| self.data_err(&what, m))?;
        let sbom = zstd::bulk::compress(&img.sbom, SBOM_LEVEL)
            .map_err(|e| self.data_err(&what, format!("compressing the SBOM: {e}")))?;
        let json = |v: &dyn erased::Json| v.json().map_err(|e| self.data_err(&what, e));
        let labels = json(&img.labels)?;
        let layers = json(&img.layers)?;
        let os = img.os.as_ref().map(|o| json(o)).transpose()?;
        let t = now();
        self.rt
            .block_on(async {
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO images (id, digest, platform, repository, created, labels, base_image, layers, \
                     os, package_count, scanned_at, last_seen) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(&img.digest)
                .bind(&img.platform)
                .bind(&img.repository)
                .bind(img.created.as_deref())
                .bind(&labels)
                .bind(img.base_image.as_deref())
                .bind(&layers)
                .bind(os.as_deref())
                .bind(rows.len() as i64)
                .bind(&t)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                for tag in &img.tags {
                    upsert_tag(&mut tx, &img.repository, tag, id, &t).await?;
                }
                if inserted == 0 {
                    return tx.commit().await;
                }
                sqlx::query(
                    "INSERT INTO sboms (image_id, format, raw_size, data) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (image_id) DO NOTHING",
                )
                .bind(id)
                .bind(&img.sbom_format)
                .bind(img.sbom.len() as i64)
                .bind(&sbom)
                .execute(&mut *tx)
                .await?;
                for chunk in rows.chunks(BATCH) {
                    let sql = format!(
                        "INSERT INTO packages (id, ecosystem, name, purl, data) VALUES {} \
                         ON CONFLICT (id) DO NOTHING",
                        values(chunk.len(), 5, 1)
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (pid, eco, name, purl, data) in chunk {
                        q = q.bind(*pid).bind(eco).bind(name).bind(purl).bind(data);
                    }
                    q.execute(&mut *tx).await?;
                    let sql = format!(
                        "INSERT INTO image_packages (image_id, package_id) VALUES {} ON CONFLICT DO NOTHING",
                        values(chunk.len(), 2, 1)
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (pid, ..) in chunk {
                        q = q.bind(id).bind(*pid);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await
            })
            .map_err(self.sql_err(format!("storing {what}")))?;
        Ok(id)
    }

    /// The stored SBOM of an image, decompressed, with its format.
    pub fn sbom(&self, digest: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let id = image_id(digest);
        let rows = self.fetch_all(
            "reading an SBOM",
            "SELECT format, raw_size, data FROM sboms WHERE image_id = $1".into(),
            |q| q.bind(id),
        )?;
        let Some(row) = rows.first() else { return Ok(None) };
        let err = self.sql_err("reading an SBOM");
        let (format, size, data): (String, i64, Vec<u8>) =
            (|| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))().map_err(err)?;
        let size = usize::try_from(size).map_err(|_| self.data_err(digest, "negative SBOM size"))?;
        let raw = zstd::bulk::decompress(&data, size)
            .map_err(|e| self.data_err(digest, format!("stored SBOM does not decompress: {e}")))?;
        Ok(Some((format, raw)))
    }
}

async fn upsert_tag(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    repository: &str,
    tag: &str,
    id: i64,
    t: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tags (repository, tag, image_id, seen_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (repository, tag, image_id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(repository)
    .bind(tag)
    .bind(id)
    .bind(t)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// JSON text of the few value types stored as JSON columns.
mod erased {
    pub trait Json {
        fn json(&self) -> Result<String, String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Result<String, String> {
            serde_json::to_string(self).map_err(|e| e.to_string())
        }
    }
}
