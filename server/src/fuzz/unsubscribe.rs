//! The unsubscribe link's token through the check `/u/<token>` runs
//! (`unsubscribe::unsubscribe_info`, which reads the lead and recomputes the
//! keyed MAC over (lead, Page)): a random, altered, cut or swapped token is
//! never accepted, and each issued one is.

use app::error::AppError;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::installation::Installation;
use crate::broadcasts::unsubscribe::unsubscribe_info;
use crate::error::Error;

/// The MAC's length at the token's end.
const MAC_CHARS: usize = 32;

#[derive(Debug, Clone)]
pub enum Token {
    Random(String),
    /// An issued token as it was given (index into the issued ones).
    Issued(usize),
    /// An issued token with one character replaced.
    Altered {
        issued: usize,
        at: usize,
        with: char,
    },
    /// An issued token cut short or made longer.
    Resized {
        issued: usize,
        keep: usize,
        extra: String,
    },
    /// One lead's key with another's MAC.
    Swapped {
        lead: usize,
        mac: usize,
    },
}

pub fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        2 => ".{0,80}|[A-Za-z0-9]{0,80}".prop_map(Token::Random),
        1 => any::<usize>().prop_map(Token::Issued),
        3 => (any::<usize>(), any::<usize>(), prop_oneof!["[A-Za-z0-9]", "."].prop_map(|s| s.chars().next().unwrap_or('x')))
            .prop_map(|(issued, at, with)| Token::Altered { issued, at, with }),
        1 => (any::<usize>(), any::<usize>(), "[A-Za-z0-9]{0,4}").prop_map(|(issued, keep, extra)| Token::Resized { issued, keep, extra }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(lead, mac)| Token::Swapped { lead, mac }),
    ]
}

fn built(issued: &[String], token: &Token) -> String {
    let pick = |i: &usize| &issued[i % issued.len()];
    match token {
        Token::Random(text) => text.clone(),
        Token::Issued(i) => pick(i).clone(),
        Token::Altered { issued: i, at, with } => {
            let mut chars: Vec<char> = pick(i).chars().collect();
            let at = at % chars.len();
            chars[at] = *with;
            chars.into_iter().collect()
        }
        Token::Resized { issued: i, keep, extra } => {
            let token = pick(i);
            format!("{}{extra}", &token[..keep % (token.len() + 1)])
        }
        Token::Swapped { lead, mac } => {
            let (lead, mac) = (pick(lead), pick(mac));
            format!("{}{}", &lead[..lead.len() - MAC_CHARS], &mac[lead.len() - MAC_CHARS..])
        }
    }
}

pub fn property(installation: &Installation, token: Token) -> Result<(), TestCaseError> {
    let given = built(&installation.issued, &token);
    let genuine = installation.issued.iter().any(|issued| *issued == given.trim());
    let answer = installation.runtime.block_on(unsubscribe_info(&installation.ctx, &given));
    match answer {
        Ok(_) => prop_assert!(genuine, "a token that was never issued was accepted: {given:?}"),
        Err(Error::User(AppError::InvalidUnsubscribeLink)) => prop_assert!(!genuine, "an issued token was refused"),
        Err(other) => return Err(TestCaseError::fail(format!("{given:?} failed otherwise: {other}"))),
    }
    Ok(())
}
