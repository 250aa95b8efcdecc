//! Subscription authorisation, checked on every subscribe.

use leadbridge_protocol::topic::Topic;

/// Who is on the other end of a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: String,
    pub role: ViewerRole,
    /// The session (hash) the socket was opened with: logout closes it.
    pub session_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerRole {
    Learner,
    /// A mentor and their profile id (whose feed they may watch).
    Mentor {
        mentor_id: String,
    },
    Admin,
    /// A mentor whose application is not approved: their own `user:` topic only (where
    /// the decision arrives), no lead feed.
    Applicant,
}

/// Whether `viewer` (None: anonymous) may subscribe to `topic`.
pub fn may_subscribe(viewer: Option<&Viewer>, topic: &Topic) -> bool {
    if topic.is_public() {
        return true;
    }
    let Some(viewer) = viewer else {
        return false;
    };
    match (&viewer.role, topic) {
        (ViewerRole::Admin, Topic::Mentor(_) | Topic::AdminQueue) => true,
        (ViewerRole::Mentor { mentor_id }, Topic::Mentor(id)) => mentor_id == id,
        (_, Topic::User(id)) => &viewer.user_id == id,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: ViewerRole) -> Viewer {
        Viewer {
            user_id: "user_1".into(),
            role,
            session_hash: "h".into(),
        }
    }

    #[test]
    fn access_table() {
        let learner = viewer(ViewerRole::Learner);
        let mentor = viewer(ViewerRole::Mentor {
            mentor_id: "mentor_1".into(),
        });
        let admin = viewer(ViewerRole::Admin);
        let applicant = viewer(ViewerRole::Applicant);
        let t = |s: &str| s.parse::<Topic>().unwrap();
        let table = [
            (None, "event:e", true),
            (None, "mentor:mentor_1", false),
            (None, "user:user_1", false),
            (Some(&learner), "user:user_1", true),
            (Some(&learner), "user:user_2", false),
            (Some(&learner), "admin:queue", false),
            (Some(&learner), "mentor:mentor_1", false),
            (Some(&mentor), "mentor:mentor_1", true),
            (Some(&mentor), "mentor:mentor_2", false),
            (Some(&mentor), "admin:queue", false),
            (Some(&admin), "admin:queue", true),
            (Some(&admin), "mentor:mentor_2", true),
            // Everyone signed in has their own `user:` topic, and no one else's.
            (Some(&admin), "user:user_1", true),
            (Some(&admin), "user:user_2", false),
            (Some(&mentor), "user:user_1", true),
            (Some(&applicant), "user:user_1", true),
            (Some(&applicant), "user:user_2", false),
            (Some(&applicant), "mentor:mentor_1", false),
            (Some(&applicant), "event:e", true),
        ];
        for (who, topic, allowed) in table {
            assert_eq!(may_subscribe(who, &t(topic)), allowed, "{who:?} {topic}");
        }
    }
}
