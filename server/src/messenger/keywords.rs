//! STOP and START keywords, in English and the usual translations across
//! EU languages. Only a message that is nothing but the keyword counts, so
//! "don't stop now" is a message, not an unsubscribe.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Stop,
    Start,
}

const STOP: &[&str] = &[
    "stop",
    "unsubscribe",
    "stop all",
    "opt out",
    "optout",
    "cancel",
    "end",
    "quit",
    // de, nl, sv/no/da, fi
    "stopp",
    "abmelden",
    "abbestellen",
    "afmelden",
    "uitschrijven",
    "avsluta",
    "avregistrera",
    "afmeld",
    "lopeta",
    // fr, es, pt, it
    "arret",
    "arreter",
    "desabonner",
    "desinscrire",
    "se desabonner",
    "baja",
    "darse de baja",
    "cancelar",
    "parar",
    "cancelar subscricao",
    "annulla",
    "disiscriviti",
    "basta",
    // pl, cs, sk, hu, ro, el
    "wypisz",
    "anuluj",
    "odhlasit",
    "odhlasit se",
    "zrusit",
    "leiratkozas",
    "dezabonare",
    "stop mesaje",
    "διακοπη",
];

const START: &[&str] = &[
    "start",
    "subscribe",
    "unstop",
    "resume",
    "anmelden",
    "abonnieren",
    "aanmelden",
    "starta",
    "aloita",
    "demarrer",
    "sabonner",
    "s abonner",
    "alta",
    "suscribir",
    "suscribirse",
    "iniciar",
    "iscriviti",
    "ricomincia",
    "subskrybuj",
    "prihlasit",
    "feliratkozas",
    "abonare",
    "εναρξη",
];

/// Lower case, accents removed, punctuation dropped, spaces collapsed.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let base = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'ą' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ő' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ű' | 'ů' => 'u',
            'ñ' | 'ń' | 'ň' => 'n',
            'š' | 'ś' | 'ș' | 'ş' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            'ř' => 'r',
            'ť' | 'ț' => 't',
            'ď' => 'd',
            'ł' => 'l',
            'ý' => 'y',
            'ά' => 'α',
            'έ' => 'ε',
            'ί' => 'ι',
            'ό' => 'ο',
            'ή' => 'η',
            c => c,
        };
        if base.is_alphanumeric() {
            out.push(base);
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

pub fn classify(text: &str) -> Option<Keyword> {
    if text.len() > 40 {
        return None;
    }
    let n = normalise(text);
    if STOP.contains(&n.as_str()) {
        Some(Keyword::Stop)
    } else if START.contains(&n.as_str()) {
        Some(Keyword::Start)
    } else {
        None
    }
}

pub const STOP_CONFIRMATION: &str = "You are unsubscribed: this Page will send you no more campaign messages. Write START to subscribe again.";
pub const START_CONFIRMATION: &str = "You are subscribed again. Write STOP at any time to unsubscribe.";
/// Added to automated messages where the Page asked for it (California, Germany).
pub const BOT_DISCLOSURE: &str = "(Automated message.)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_start_in_several_languages() {
        for stop in ["STOP", " Stop! ", "unsubscribe", "Arrêter", "Désabonner", "abmelden", "Darse de baja", "disiscriviti", "Odhlásit", "stopp."] {
            assert_eq!(classify(stop), Some(Keyword::Stop), "{stop}");
        }
        for start in ["START", "Start.", "subscribe", "Démarrer", "abonnieren", "iscriviti"] {
            assert_eq!(classify(start), Some(Keyword::Start), "{start}");
        }
        for other in ["please don't stop", "stopwatch", "", "hello", "start the order please"] {
            assert_eq!(classify(other), None, "{other}");
        }
    }
}
