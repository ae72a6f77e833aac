package provision

import "strings"

// Languages are the ISO 639-1 codes every make must map (tested).
var Languages = []string{"en", "nl", "de", "fr", "es", "it", "pt", "pl", "sv", "da", "nb", "fi", "cs", "tr", "ru"}

// languageNames is the one table of language names per make: each make's own
// word for a language in its language setting (Yealink lang.gui/lang.wui, Poly
// lcl.ml.lang, Snom language, Cisco MPP Language_Selection, Grandstream P1362,
// Fanvil DefaultLanguage). Where a make has no translation of its own the row
// names the language the phone falls back to (English), so a phone never gets
// an unknown value.
var languageNames = map[string]map[Make]string{
	"en": {Yealink: "English", Poly: "English_United_States", Snom: "English", Cisco: "English-US", Grandstream: "en", Fanvil: "en"},
	"nl": {Yealink: "Dutch", Poly: "Nederlands_Nederland", Snom: "Nederlands", Cisco: "Dutch", Grandstream: "nl", Fanvil: "nl"},
	"de": {Yealink: "German", Poly: "Deutsch_Deutschland", Snom: "Deutsch", Cisco: "German", Grandstream: "de", Fanvil: "de"},
	"fr": {Yealink: "French", Poly: "Francais_France", Snom: "Francais", Cisco: "French", Grandstream: "fr", Fanvil: "fr"},
	"es": {Yealink: "Spanish", Poly: "Espanol_Espana", Snom: "Espanol", Cisco: "Spanish", Grandstream: "es", Fanvil: "es"},
	"it": {Yealink: "Italian", Poly: "Italiano_Italia", Snom: "Italiano", Cisco: "Italian", Grandstream: "it", Fanvil: "it"},
	"pt": {Yealink: "Portuguese", Poly: "Portugues_Portugal", Snom: "Portugues", Cisco: "Portuguese", Grandstream: "pt", Fanvil: "pt"},
	"pl": {Yealink: "Polish", Poly: "Polski_Polska", Snom: "Polski", Cisco: "Polish", Grandstream: "pl", Fanvil: "pl"},
	"sv": {Yealink: "Swedish", Poly: "Svenska_Sverige", Snom: "Svenska", Cisco: "Swedish", Grandstream: "sv", Fanvil: "en"},
	"da": {Yealink: "Danish", Poly: "Dansk_Danmark", Snom: "Dansk", Cisco: "Danish", Grandstream: "da", Fanvil: "en"},
	"nb": {Yealink: "Norwegian", Poly: "Norsk_Norge", Snom: "Norsk", Cisco: "Norwegian", Grandstream: "no", Fanvil: "en"},
	"fi": {Yealink: "Finnish", Poly: "Suomi_Suomi", Snom: "Suomi", Cisco: "Finnish", Grandstream: "fi", Fanvil: "en"},
	"cs": {Yealink: "Czech", Poly: "Cestina_Ceska_Republika", Snom: "Cestina", Cisco: "Czech", Grandstream: "cz", Fanvil: "cz"},
	"tr": {Yealink: "Turkish", Poly: "Turkce_Turkiye", Snom: "Turkce", Cisco: "Turkish", Grandstream: "tr", Fanvil: "tr"},
	"ru": {Yealink: "Russian", Poly: "Russian_Russia", Snom: "Russian", Cisco: "Russian", Grandstream: "ru", Fanvil: "ru"},
}

// LanguageName is the make's own name for an ISO 639-1 language code (a
// region suffix such as nl-BE or pt_BR is ignored; "no" is read as nb). An
// unknown language gives the make's English.
func LanguageName(mk Make, code string) string {
	code = strings.ToLower(code)
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	if code == "no" || code == "nn" {
		code = "nb"
	}
	if row, ok := languageNames[code]; ok {
		if n, ok := row[mk]; ok {
			return n
		}
	}
	return languageNames["en"][mk]
}
