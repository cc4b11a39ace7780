//! Agencies and the history of their focal officers.

use chrono::{DateTime, Utc};
use lgsp_core::{AgencyCode, AgencyKind, Email, FocalOfficer, NewAgency, Phone, Text};
use serde::Serialize;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// A registered agency with its current focal officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    pub code: AgencyCode,
    pub name: Text,
    pub parent: Option<AgencyCode>,
    pub kind: AgencyKind,
    pub focal_officer: FocalOfficer,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One focal officer's term at an agency; the current term has no `valid_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FocalOfficerTerm {
    pub officer: FocalOfficer,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    /// Who appointed this officer on the platform (`None` for the first, or for seeded data).
    pub changed_by: Option<String>,
}

/// Changes to an agency's own fields. `None` leaves a field as it is; `parent: Some(None)`
/// detaches the agency from its parent.
#[derive(Debug, Clone, Default)]
pub struct AgencyPatch {
    pub name: Option<Text>,
    pub parent: Option<Option<AgencyCode>>,
    pub kind: Option<AgencyKind>,
}

#[derive(sqlx::FromRow)]
struct AgencyRow {
    code: String,
    name: String,
    parent_code: Option<String>,
    kind: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    fo_name: String,
    fo_title: String,
    fo_phone: String,
    fo_email: String,
}

impl TryFrom<AgencyRow> for Agency {
    type Error = StoreError;
    fn try_from(row: AgencyRow) -> Result<Self> {
        Ok(Self {
            code: AgencyCode::parse(&row.code)?,
            name: Text::parse(&row.name)?,
            parent: row.parent_code.map(AgencyCode::parse).transpose()?,
            kind: AgencyKind::parse(&row.kind)?,
            focal_officer: officer(row.fo_name, row.fo_title, row.fo_phone, row.fo_email)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn officer(name: String, title: String, phone: String, email: String) -> Result<FocalOfficer> {
    Ok(FocalOfficer {
        name: Text::parse(name)?,
        title: Text::parse(title)?,
        phone: Phone::parse(phone)?,
        email: Email::parse(email)?,
    })
}

#[derive(sqlx::FromRow)]
struct TermRow {
    name: String,
    title: String,
    phone: String,
    email: String,
    valid_from: Timestamp,
    valid_to: Option<Timestamp>,
    changed_by: Option<String>,
}

const SELECT_AGENCY: &str = "
    SELECT a.code, a.name, a.parent_code, a.kind, a.created_at, a.updated_at,
           f.name AS fo_name, f.title AS fo_title, f.phone AS fo_phone, f.email AS fo_email
    FROM agencies a
    JOIN focal_officers f ON f.agency_id = a.id AND f.valid_to IS NULL";

impl Store {
    /// Registers an agency together with its focal officer, atomically.
    pub async fn insert_agency(&self, agency: &NewAgency) -> Result<Agency> {
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            if let Some(parent) = &agency.parent {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                        .bind(parent.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err(StoreError::MissingReference(format!(
                        "parent agency {parent} does not exist"
                    )));
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO agencies (code, name, parent_code, kind, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(agency.code.as_str())
            .bind(agency.name.as_str())
            .bind(agency.parent.as_ref().map(AgencyCode::as_str))
            .bind(agency.kind.as_str())
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_constraint(format!(
                "an agency with code {} already exists",
                agency.code
            )))?;
            let o = &agency.focal_officer;
            sqlx::query(
                "INSERT INTO focal_officers (agency_id, name, title, phone, email, valid_from)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(o.name.as_str())
            .bind(o.title.as_str())
            .bind(o.phone.as_str())
            .bind(o.email.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.get_agency(&agency.code).await
    }

    pub async fn get_agency(&self, code: &AgencyCode) -> Result<Agency> {
        let row: Option<AgencyRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_AGENCY} WHERE a.code = $1"))
                .bind(code.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("agency"))?.try_into()
    }

    /// Every agency, ordered by code.
    pub async fn list_agencies(&self) -> Result<Vec<Agency>> {
        let rows: Vec<AgencyRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_AGENCY} ORDER BY a.code"))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Agency::try_from).collect()
    }

    /// Changes an agency's name, parent or kind. A parent must exist and must not make the
    /// hierarchy circular.
    pub async fn update_agency(&self, code: &AgencyCode, patch: &AgencyPatch) -> Result<Agency> {
        let current = self.get_agency(code).await?;
        if let Some(Some(parent)) = &patch.parent {
            self.check_parent(code, parent).await?;
        }
        let name = patch.name.as_ref().unwrap_or(&current.name);
        let kind = patch.kind.unwrap_or(current.kind);
        let parent = match &patch.parent {
            Some(parent) => parent.as_ref(),
            None => current.parent.as_ref(),
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE agencies SET name = $2, parent_code = $3, kind = $4, updated_at = $5
                 WHERE code = $1",
            )
            .bind(code.as_str())
            .bind(name.as_str())
            .bind(parent.map(AgencyCode::as_str))
            .bind(kind.as_str())
            .bind(now())
            .execute(pool)
            .await
            .map_err(StoreError::on_constraint("conflicting agency"))?;
        });
        self.get_agency(code).await
    }

    async fn check_parent(&self, code: &AgencyCode, parent: &AgencyCode) -> Result<()> {
        let mut cursor = Some(parent.clone());
        while let Some(ancestor) = cursor {
            if &ancestor == code {
                return Err(StoreError::Conflict(format!(
                    "agency {parent} cannot be the parent of {code}: the hierarchy would be circular"
                )));
            }
            cursor = match self.get_agency(&ancestor).await {
                Ok(agency) => agency.parent,
                Err(StoreError::NotFound(_)) => {
                    return Err(StoreError::MissingReference(format!(
                        "parent agency {ancestor} does not exist"
                    )))
                }
                Err(other) => return Err(other),
            };
        }
        Ok(())
    }

    /// Appoints a new focal officer. The previous term is closed, never overwritten (Q8.2).
    pub async fn change_focal_officer(
        &self,
        code: &AgencyCode,
        officer: &FocalOfficer,
        changed_by: &str,
    ) -> Result<Agency> {
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("agency"))?;
            sqlx::query(
                "UPDATE focal_officers SET valid_to = $2 WHERE agency_id = $1 AND valid_to IS NULL",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO focal_officers (agency_id, name, title, phone, email, valid_from, changed_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(officer.name.as_str())
            .bind(officer.title.as_str())
            .bind(officer.phone.as_str())
            .bind(officer.email.as_str())
            .bind(at)
            .bind(changed_by)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE agencies SET updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        self.get_agency(code).await
    }

    /// Every focal officer the agency has had, the current one first.
    pub async fn focal_officer_history(&self, code: &AgencyCode) -> Result<Vec<FocalOfficerTerm>> {
        self.get_agency(code).await?;
        let rows: Vec<TermRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT f.name, f.title, f.phone, f.email, f.valid_from, f.valid_to, f.changed_by
                 FROM focal_officers f JOIN agencies a ON a.id = f.agency_id
                 WHERE a.code = $1 ORDER BY f.valid_from DESC, f.id DESC",
            )
            .bind(code.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(FocalOfficerTerm {
                    officer: officer(row.name, row.title, row.phone, row.email)?,
                    valid_from: row.valid_from,
                    valid_to: row.valid_to,
                    changed_by: row.changed_by,
                })
            })
            .collect()
    }
}
