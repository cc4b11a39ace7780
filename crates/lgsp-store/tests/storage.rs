//! The storage story, run on SQLite always and on PostgreSQL with `--ignored`
//! (`TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`): each run gets a
//! fresh database that is dropped afterwards.

use lgsp_core::identity::RoleAssignment;
use lgsp_core::{
    AgencyCode, AgencyKind, ConnectionModel, Email, FocalOfficer, HttpUrl, NewAgency, NewSystem,
    Phone, Readiness, Role, SecurityLevel, SystemCode, SystemId, Text, Username,
};
use lgsp_store::{
    AgencyPatch, NewClient, NewUser, SessionKind, Store, StoreError, SystemPatch, UserPatch,
};

fn code(s: &str) -> AgencyCode {
    AgencyCode::parse(s).unwrap()
}

fn officer(name: &str) -> FocalOfficer {
    FocalOfficer {
        name: Text::parse(name).unwrap(),
        title: Text::parse("Chuyên viên").unwrap(),
        phone: Phone::parse("0226 3852 701").unwrap(),
        email: Email::parse("dau.moi@hanam.gov.vn").unwrap(),
    }
}

fn agency(c: &str, name: &str, parent: Option<&str>) -> NewAgency {
    NewAgency {
        code: code(c),
        name: Text::parse(name).unwrap(),
        parent: parent.map(code),
        kind: AgencyKind::Department,
        focal_officer: officer("Nguyễn Văn An"),
    }
}

fn system(c: &str) -> NewSystem {
    NewSystem {
        code: SystemCode::parse(c).unwrap(),
        name: Text::parse("Hệ thống một cửa điện tử").unwrap(),
        security_level: SecurityLevel::parse(3).unwrap(),
        connection: ConnectionModel::Lgsp,
        base_url: HttpUrl::parse("https://motcua.hanam.gov.vn").unwrap(),
        health_url: None,
    }
}

/// The whole story, on whichever backend `store` runs.
async fn story(store: Store) {
    store.migrate().await.unwrap();
    // Migrating twice is harmless: the server migrates at every start.
    store.migrate().await.unwrap();
    store.ping().await.unwrap();

    q8_2_agency_is_stored_with_its_focal_officer_and_keeps_history(&store).await;
    agency_hierarchy_rejects_missing_and_circular_parents(&store).await;
    q7_1_systems_are_registered_per_agency_and_q21_3_assessed(&store).await;
    users_sessions_and_login_throttle(&store).await;
    clients_are_tied_to_systems_and_revocable(&store).await;
    store.close().await;
}

async fn q8_2_agency_is_stored_with_its_focal_officer_and_keeps_history(store: &Store) {
    let ubnd = store
        .insert_agency(&agency(
            "000.00.00.H35",
            "Ủy ban nhân dân tỉnh Hà Nam",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(ubnd.focal_officer.name.as_str(), "Nguyễn Văn An");
    let tp = store
        .insert_agency(&agency(
            "000.00.05.H35",
            "Sở Tư pháp",
            Some("000.00.00.H35"),
        ))
        .await
        .unwrap();
    assert_eq!(tp.parent, Some(code("000.00.00.H35")));

    let duplicate = store
        .insert_agency(&agency("000.00.05.H35", "Trùng mã", None))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );
    // The failed insert left nothing behind: still one agency with that code, one officer.
    assert_eq!(store.list_agencies().await.unwrap().len(), 2);
    assert_eq!(
        store
            .focal_officer_history(&code("000.00.05.H35"))
            .await
            .unwrap()
            .len(),
        1
    );

    let changed = store
        .change_focal_officer(
            &code("000.00.05.H35"),
            &officer("Trần Thị Bình"),
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(changed.focal_officer.name.as_str(), "Trần Thị Bình");
    let history = store
        .focal_officer_history(&code("000.00.05.H35"))
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].officer.name.as_str(), "Trần Thị Bình");
    assert!(history[0].valid_to.is_none());
    assert_eq!(history[0].changed_by.as_deref(), Some("operator"));
    assert_eq!(history[1].officer.name.as_str(), "Nguyễn Văn An");
    assert_eq!(history[1].valid_to, Some(history[0].valid_from));

    let renamed = store
        .update_agency(
            &code("000.00.05.H35"),
            &AgencyPatch {
                name: Some(Text::parse("Sở Tư pháp tỉnh Hà Nam").unwrap()),
                ..AgencyPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "Sở Tư pháp tỉnh Hà Nam");
    assert_eq!(renamed.parent, Some(code("000.00.00.H35")));
    assert!(matches!(
        store.get_agency(&code("999.99.99.H35")).await,
        Err(StoreError::NotFound("agency"))
    ));
}

async fn agency_hierarchy_rejects_missing_and_circular_parents(store: &Store) {
    let orphan = store
        .insert_agency(&agency("000.00.07.H35", "Mồ côi", Some("000.00.99.H35")))
        .await;
    assert!(
        matches!(orphan, Err(StoreError::MissingReference(_))),
        "{orphan:?}"
    );
    let circular = store
        .update_agency(
            &code("000.00.00.H35"),
            &AgencyPatch {
                parent: Some(Some(code("000.00.05.H35"))),
                ..AgencyPatch::default()
            },
        )
        .await;
    assert!(
        matches!(circular, Err(StoreError::Conflict(_))),
        "{circular:?}"
    );
    assert_eq!(
        store
            .get_agency(&code("000.00.00.H35"))
            .await
            .unwrap()
            .parent,
        None
    );
}

async fn q7_1_systems_are_registered_per_agency_and_q21_3_assessed(store: &Store) {
    let tp = code("000.00.05.H35");
    let created = store.insert_system(&tp, &system("ho-tich")).await.unwrap();
    assert_eq!(created.readiness, Readiness::Unassessed);
    assert!(matches!(
        store.insert_system(&tp, &system("ho-tich")).await,
        Err(StoreError::Conflict(_))
    ));
    // The same code under another agency is a different system.
    store
        .insert_system(&code("000.00.00.H35"), &system("ho-tich"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_system(&code("123.00.00.H35"), &system("x"))
            .await,
        Err(StoreError::NotFound("agency"))
    ));

    let other = ConnectionModel::Other {
        description: Text::parse("Kết nối qua Trục liên thông văn bản").unwrap(),
    };
    let updated = store
        .update_system(
            &tp,
            &SystemCode::parse("ho-tich").unwrap(),
            &SystemPatch {
                connection: Some(other.clone()),
                health_url: Some(Some(
                    HttpUrl::parse("https://motcua.hanam.gov.vn/health").unwrap(),
                )),
                ..SystemPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.connection, other);
    assert_eq!(updated.security_level.get(), 3);

    let needs = Readiness::NeedsUpgrade {
        findings: lgsp_core::Findings::new(vec![Text::parse("Chưa hỗ trợ TLS 1.2").unwrap()])
            .unwrap(),
    };
    let assessed = store
        .assess_system(
            &tp,
            &SystemCode::parse("ho-tich").unwrap(),
            &needs,
            "operator",
        )
        .await
        .unwrap();
    assert_eq!(assessed.readiness, needs);
    assert_eq!(assessed.readiness_assessed_by.as_deref(), Some("operator"));
    assert_eq!(store.list_systems(Some(&tp)).await.unwrap().len(), 1);
    assert_eq!(store.list_systems(None).await.unwrap().len(), 2);
}

async fn users_sessions_and_login_throttle(store: &Store) {
    let tp = code("000.00.05.H35");
    let admin = store
        .insert_user(&NewUser {
            username: Username::parse("quantri.stp").unwrap(),
            full_name: Text::parse("Lê Văn Cường").unwrap(),
            email: None,
            assignment: RoleAssignment::new(Role::AgencyAdmin, Some(tp.clone())).unwrap(),
            password_hash: "$argon2id$fake".into(),
        })
        .await
        .unwrap();
    assert_eq!(admin.assignment.agency(), Some(&tp));
    let (_, hash) = store.user_credentials(&admin.username).await.unwrap();
    assert_eq!(hash, "$argon2id$fake");
    let taken = store
        .insert_user(&NewUser {
            username: admin.username.clone(),
            full_name: Text::parse("Ai đó").unwrap(),
            email: None,
            assignment: RoleAssignment::new(Role::Citizen, None).unwrap(),
            password_hash: "x".into(),
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
    let missing_agency = store
        .insert_user(&NewUser {
            username: Username::parse("nobody").unwrap(),
            full_name: Text::parse("Không ai").unwrap(),
            email: None,
            assignment: RoleAssignment::new(Role::AgencyAdmin, Some(code("1.H35"))).unwrap(),
            password_hash: "x".into(),
        })
        .await;
    assert!(matches!(
        missing_agency,
        Err(StoreError::MissingReference(_))
    ));

    let expires = lgsp_store::now() + chrono::Duration::hours(1);
    store
        .create_session("hash-1", &admin, SessionKind::Web, "csrf-1", expires)
        .await
        .unwrap();
    let session = store.find_session("hash-1").await.unwrap().unwrap();
    assert_eq!(session.user.username, admin.username);
    assert_eq!(session.csrf_token, "csrf-1");
    assert!(store.find_session("hash-2").await.unwrap().is_none());

    let expired = lgsp_store::now() - chrono::Duration::seconds(1);
    store
        .create_session("hash-old", &admin, SessionKind::Api, "csrf-2", expired)
        .await
        .unwrap();
    assert!(store.find_session("hash-old").await.unwrap().is_none());

    // Disabling the account ends its sessions.
    store
        .update_user(
            &admin.username,
            &UserPatch {
                disabled: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(store.find_session("hash-1").await.unwrap().is_none());
    assert!(store.get_user(&admin.username).await.unwrap().disabled);

    assert_eq!(store.login_failures("quantri.stp").await.unwrap(), None);
    assert_eq!(store.record_login_failure("quantri.stp").await.unwrap(), 1);
    assert_eq!(store.record_login_failure("quantri.stp").await.unwrap(), 2);
    assert_eq!(
        store
            .login_failures("quantri.stp")
            .await
            .unwrap()
            .unwrap()
            .0,
        2
    );
    store.clear_login_failures("quantri.stp").await.unwrap();
    assert_eq!(store.login_failures("quantri.stp").await.unwrap(), None);
}

async fn clients_are_tied_to_systems_and_revocable(store: &Store) {
    let system = SystemId {
        agency: code("000.00.05.H35"),
        code: SystemCode::parse("ho-tich").unwrap(),
    };
    let client = store
        .insert_client(&NewClient {
            client_id: "stp-ho-tich".into(),
            name: Text::parse("Kết nối hộ tịch").unwrap(),
            system: system.clone(),
            secret_hash: "h1".into(),
        })
        .await
        .unwrap();
    assert_eq!(client.system, system);
    assert!(matches!(
        store
            .insert_client(&NewClient {
                client_id: "stp-ho-tich".into(),
                name: Text::parse("Trùng").unwrap(),
                system: system.clone(),
                secret_hash: "h2".into(),
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .rotate_client_secret("stp-ho-tich", "h3")
        .await
        .unwrap();
    assert_eq!(
        store.client_credentials("stp-ho-tich").await.unwrap().1,
        "h3"
    );
    let revoked = store.revoke_client("stp-ho-tich").await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        store.rotate_client_secret("stp-ho-tich", "h4").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .list_clients(Some(&system.agency))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_clients(Some(&code("000.00.00.H35")))
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn storage_story_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("lgsp-store-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite(&dir.join("lgsp.db")).await.unwrap();
    story(store).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: cargo test -p lgsp-store -- --ignored"]
async fn storage_story_on_postgres() {
    let scratch = lgsp_store::scratch::ScratchDatabase::create()
        .await
        .unwrap();
    let store = Store::connect(&scratch.url()).await.unwrap();
    // Run the story in its own task so the database is dropped even when it fails.
    let outcome = tokio::spawn(story(store)).await;
    scratch.drop_database().await.unwrap();
    outcome.unwrap();
}
