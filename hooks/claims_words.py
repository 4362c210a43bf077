"""The fixed words of the claim blocks in each edition: labels, badges, the checker's status sentences.

The claims' own texts (titles, assumptions, step justifications) come from derivations/ in English and
from derivations/i18n/<lang>.toml in translation; these are the words around them (hooks/claims_html.py).
"""

from __future__ import annotations

#: The fixed words of a claim block in each edition; the claim texts themselves come from derivations/i18n/.
LABELS = {
    "en": {
        "derivation": "Derivation, shown for {shown_for} ({count} step{plural})",
        "no_build": "The derivation could not be built:",
        "checked": "Checked",
        "assumptions": "Assumptions",
        "sympy": "As SymPy assumptions",
        "declared_links": "Declared links",
        "declared_intro": "Shown by a declared fact, not by computation:",
        "declared": "declared",
        "source": "Source",
        "table": "| Claim | Scope | Method | Status | Seconds |",
        "verified": "verified",
        "failed": "FAILED",
        "unchecked": "not checked",
        "unreported": "The checker did not report this claim.",
        "holds": "holds for {scope} (method: {method}; {seconds:.2f} s)",
        "failure": "<strong>failed</strong> for {scope} at step {step} ({why}); what remained: {remained} "
        "(method: {method})",
        "no_report": "The checker produced no report in this build.",
        "summary": "<strong>{held} of {total} claims hold</strong>, checked with SymPy {sympy} by "
        "<code>python -m derivations --json</code> ({seconds:.1f} s) on the derivations this build read "
        "(the report is cached by their hash, so it is never older than they are).",
        "untranslated": "",
        "stale": "",
    },
    "ko": {
        "derivation": "유도: {shown_for}에 대해 보임 ({count}단계)",
        "no_build": "유도를 만들 수 없습니다:",
        "checked": "검사",
        "assumptions": "가정",
        "sympy": "SymPy 가정",
        "declared_links": "선언된 연결",
        "declared_intro": "계산이 아니라 선언된 사실로 보인 단계:",
        "declared": "선언",
        "source": "소스",
        "table": "| 명제 | 범위 | 방법 | 상태 | 초 |",
        "verified": "검증됨",
        "failed": "실패",
        "unchecked": "검사 안 됨",
        "unreported": "검사기가 이 명제를 보고하지 않았습니다.",
        "holds": "{scope}에 대해 성립 (방법: {method}; {seconds:.2f}초)",
        "failure": "{scope}에서 {step}단계({why})에서 <strong>실패</strong>; 남은 식: {remained} (방법: {method})",
        "no_report": "이번 빌드에서 검사기가 보고서를 만들지 못했습니다.",
        "summary": "<strong>명제 {total}개 중 {held}개가 성립합니다</strong>. 이 빌드가 읽은 derivations/를 "
        "SymPy {sympy}로 <code>python -m derivations --json</code>이 검사했습니다 ({seconds:.1f}초; 보고서는 "
        "소스의 해시로 캐시되므로 소스보다 오래될 수 없습니다).",
        "untranslated": "번역 대기: 영어 원문",
        "stale": "번역이 영어 원문의 이전 판을 옮긴 것입니다",
    },
}
#: Words of the checker's scope and method strings, in the Korean edition.
_SCOPE_WORDS = {
    "ko": [
        ("general n", "일반 n"),
        ("scalar (no n)", "스칼라 (n 없음)"),
        ("concrete n", "구체적인 n"),
        ("symbolic", "기호 계산"),
        ("with declared link", "선언된 연결 포함"),
    ],
}


def scope_words(text: str, lang: str) -> str:
    for en, local in _SCOPE_WORDS.get(lang, []):
        text = text.replace(en, local)
    return text
