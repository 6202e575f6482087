//! List keys with filters and marker pagination (ordered by id).

use sqlx::Row;

use kms_core::types::{KeyPage, ListKeysRequest};
use kms_core::{Error, KeyId, Result};

use crate::backend::LocalBackend;
use crate::db::db_err;
use crate::rows::{KEY_COLUMNS, fill_names, key_from_row};

impl LocalBackend {
    pub(crate) async fn op_list_keys(&self, req: &ListKeysRequest) -> Result<KeyPage> {
        self.root()?;
        self.purge_due().await?;
        let limit = req.page_size()?;
        let mut sql = format!("SELECT {KEY_COLUMNS} FROM kms_keys k WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, value: String| {
            args.push(value);
            sql.push_str(&clause.replace("$?", &format!("${}", args.len())));
        };
        if let Some(marker) = &req.marker {
            let id: KeyId = marker.parse().map_err(|_| {
                Error::invalid("marker", "not a marker returned by a previous page")
            })?;
            push(&mut sql, " AND k.id > $?", id.to_string());
        }
        if let Some(alias) = &req.alias {
            push(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM kms_aliases a WHERE a.key_id = k.id AND a.name = $?)",
                alias.to_string(),
            );
        }
        if let Some((name, value)) = &req.tag {
            push(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM kms_key_tags t WHERE t.key_id = k.id AND t.name = $?",
                name.clone(),
            );
            match value {
                Some(v) => push(&mut sql, " AND t.value = $?)", v.clone()),
                None => sql.push(')'),
            }
        }
        if let Some(state) = req.state {
            push(&mut sql, " AND k.state = $?", state.as_str().to_string());
        }
        if let Some(spec) = req.spec {
            push(&mut sql, " AND k.spec = $?", spec.as_str().to_string());
        }
        sql.push_str(&format!(" ORDER BY k.id LIMIT {}", limit + 1));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(db_err)?;
        let more = rows.len() > limit as usize;
        let mut keys = Vec::with_capacity(rows.len().min(limit as usize));
        for row in rows.iter().take(limit as usize) {
            let mut meta = key_from_row(row)?;
            fill_names(&self.pool, &mut meta).await?;
            keys.push(meta);
        }
        let next_marker = if more {
            keys.last().map(|k| k.key_id.to_string())
        } else {
            None
        };
        Ok(KeyPage { keys, next_marker })
    }

    pub(crate) async fn op_key_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM kms_keys")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let n: i64 = row
            .try_get("n")
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
