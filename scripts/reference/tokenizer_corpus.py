#!/usr/bin/env python3
"""Writes tests/data/tokenizer/corpus.jsonl: a seeded, diverse set of strings for tokenizer tests.

Each line is {"text": ...}. The first lines are hand-picked edge cases; the rest are random
mixes of scripts, emoji, numbers, whitespace runs, code, URLs, JSON, markdown and special-token
text. Only code points assigned in Python's Unicode database are used, so the reference
(transformers/tokenizers) and PCRE2 agree on their categories.

    python scripts/reference/tokenizer_corpus.py [--out PATH] [--count N] [--seed S]
"""

import argparse
import json
import random
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>",
            "<file_sep>", "<filename>", "<gh_stars>", "<issue_start>", "<issue_comment>",
            "<issue_closed>", "<jupyter_start>", "<jupyter_text>", "<jupyter_code>",
            "<jupyter_output>", "<jupyter_script>", "<empty_output>"]

# Code point ranges per script (inclusive); random picks skip unassigned points.
SCRIPTS = {
    "latin_accents": [(0x00C0, 0x00FF), (0x0100, 0x017F), (0x0180, 0x024F)],
    "cyrillic": [(0x0400, 0x04FF)],
    "greek": [(0x0370, 0x03FF)],
    "arabic": [(0x0600, 0x06FF)],
    "hebrew": [(0x0590, 0x05FF)],
    "devanagari": [(0x0900, 0x097F)],
    "thai": [(0x0E00, 0x0E7F)],
    "cjk": [(0x4E00, 0x9FFF)],
    "hangul": [(0xAC00, 0xD7A3)],
    "kana": [(0x3040, 0x30FF)],
    "fullwidth": [(0xFF01, 0xFF5E)],
    "math_symbols": [(0x2200, 0x22FF), (0x2190, 0x21FF)],
    "number_forms": [(0x2150, 0x218B), (0x2460, 0x24FF), (0x00B2, 0x00B3), (0x0660, 0x0669),
                     (0x0966, 0x096F), (0xFF10, 0xFF19)],
    "combining": [(0x0300, 0x036F)],
}

WORDS = {
    "en": "the quick brown fox jumps over a lazy dog while people say hello world and "
          "tokenizers split text into pieces before merging bytes".split(),
    "fr": "déjà vu garçon élève naïve façade où être à côté crème brûlée".split(),
    "de": "Straße Grüße Übermäßig schön Mädchen Fußgänger Äpfel".split(),
    "es": "niño año mañana corazón canción ¿qué? ¡hola!".split(),
    "ru": "Привет мир как дела сегодня хорошая погода Москва".split(),
    "el": "Γειά σου κόσμε καλημέρα αλφάβητο Ελλάδα".split(),
    "ar": "مرحبا بالعالم كيف حالك اليوم اللغة العربية".split(),
    "he": "שלום עולם מה שלומך היום עברית".split(),
    "hi": "नमस्ते दुनिया आप कैसे हैं हिन्दी भाषा".split(),
    "th": "สวัสดีชาวโลก ภาษาไทย ขอบคุณครับ".split(),
    "zh": "你好 世界 今天 天气 很好 中文 分词 测试".split(),
    "ja": "こんにちは 世界 カタカナ ひらがな 日本語 東京".split(),
    "ko": "안녕하세요 세계 한국어 오늘 날씨 좋네요".split(),
}

EMOJI = ["😀", "😂", "🥲", "🚀", "🔥", "✨", "❤️", "👍", "👍🏽", "👋🏿", "🙏🏻", "🇺🇸", "🇯🇵", "🏳️‍🌈",
         "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑‍🚀", "🤷‍♀️", "🐍", "☕", "⚡", "🎉", "1️⃣", "#️⃣", "©️", "™"]

WHITESPACE = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n", "\n ",
              "\u00a0", "\u2009", "\u3000", "\u200b", "\u2028", "\u0085", "\u000b", "\u000c",
              "\u180e", "\ufeff", " \t ", "        "]

CONTRACTIONS = ["it's", "don't", "we're", "I've", "I'm", "you'll", "he'd", "IT'S", "DON'T",
                "We'LL", "they'RE", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "rock 'n' roll",
                "o'clock", "’s curly"]

CODE = [
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += x[i];\n}",
    "#include <vector>\nint main() { std::vector<int> v{1, 2, 3}; return v.size(); }",
    "fn main() {\n    println!(\"Hello, {}!\", name);\n}",
    "const f = (x) => x?.y ?? 42; // arrow",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "if [ -f ~/.bashrc ]; then source ~/.bashrc; fi",
    "<div class=\"box\"><p>Hi &amp; bye</p></div>",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "x = [i**2 for i in range(10) if i % 2 == 0]",
    "public static void main(String[] args) { System.out.println(args.length); }",
    "    indented_with_spaces = True\n        deeper = 1\n",
    "a != b && c <= d || e >>= 2; f <<= 3; g ||= h",
    "lambda *args, **kwargs: None",
]

URLS = ["https://example.com/path?q=1&r=two#frag", "http://localhost:8080/api/v1/users/42",
        "ftp://files.example.org/pub/README.txt", "mailto:someone@example.com",
        "www.hugging-face.co/models?sort=downloads", "https://ja.wikipedia.org/wiki/東京"]

MARKDOWN = ["# Title\n\nSome *emphasis* and **bold** text.", "- item one\n- item two\n  - nested",
            "```python\nprint('x')\n```", "| a | b |\n|---|---|\n| 1 | 2 |",
            "> quote line\n> another", "[link](https://x.y) ![img](a.png)", "1. first\n2. second"]


def assigned(cp):
    ch = chr(cp)
    return unicodedata.category(ch) not in ("Cn", "Cs", "Co")


def random_script_text(rng, script, n):
    ranges = SCRIPTS[script]
    out = []
    while len(out) < n:
        lo, hi = rng.choice(ranges)
        cp = rng.randint(lo, hi)
        if assigned(cp):
            out.append(chr(cp))
        if rng.random() < 0.15:
            out.append(" ")
    return "".join(out)


def random_number(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randint(0, 9))
    if kind == 1:
        return str(rng.randint(0, 10 ** rng.randint(1, 30)))
    if kind == 2:
        return f"{rng.uniform(-1e6, 1e6):.{rng.randint(1, 8)}f}"
    if kind == 3:
        return f"{rng.randint(1, 999):,}".replace(",", rng.choice([",", ".", " "])) + "000"
    if kind == 4:
        return f"{rng.random():.3e}"
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12)))


def random_json(rng):
    obj = {"id": rng.randint(0, 10 ** 6), "name": rng.choice(WORDS["en"]),
           "tags": rng.sample(WORDS["en"], 3), "score": round(rng.random(), 4),
           "ok": rng.random() < 0.5, "none": None, "nested": {"k": rng.choice(WORDS["fr"])}}
    return json.dumps(obj, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, 2]))


def random_words(rng, lang, n):
    return " ".join(rng.choice(WORDS[lang]) for _ in range(n))


def random_chat(rng):
    parts = []
    for _ in range(rng.randint(1, 3)):
        role = rng.choice(["system", "user", "assistant"])
        parts.append(f"<|im_start|>{role}\n{random_words(rng, 'en', rng.randint(1, 8))}<|im_end|>\n")
    if rng.random() < 0.5:
        parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def random_fragment(rng):
    kind = rng.randrange(12)
    if kind == 0:
        return random_script_text(rng, rng.choice(list(SCRIPTS)), rng.randint(1, 20))
    if kind == 1:
        return random_words(rng, rng.choice(list(WORDS)), rng.randint(1, 8))
    if kind == 2:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind == 3:
        return random_number(rng)
    if kind == 4:
        return rng.choice(WHITESPACE)
    if kind == 5:
        return rng.choice(CONTRACTIONS)
    if kind == 6:
        return rng.choice(CODE)
    if kind == 7:
        return rng.choice(URLS)
    if kind == 8:
        return random_json(rng)
    if kind == 9:
        return rng.choice(MARKDOWN)
    if kind == 10:
        return rng.choice(SPECIALS)
    return "".join(rng.choice("!@#$%^&*()_+-=[]{};:'\",.<>/?\\|`~") for _ in range(rng.randint(1, 6)))


def edge_cases():
    cases = ["", " ", "  ", "\n", "\n\n\n", "\r\n", "\t", "a", "A", "Hello world",
             "Hello world ", "Hello world  ", " Hello", "  Hello", "\tHello\n", "hello\r\nworld",
             "trailing spaces   ", "   ", "a  b   c    d", "x \ty", "x\t y", "x \n y", "12345",
             " 1", "  1", "1 2  3   4", "3.14159", "-0.5e-10", "1,000,000", "v1.2.3", "²³¹",
             "٣٤٥", "१२३", "１２３", "Ⅻ", "½ ¾", "①②", "10x", "x10", "$100", "100%",
             "It's", "it's", "I'M", "we'LL", "don''t", "'", "''", "'''s", "́", "é", "é",
             "\u0301\u0301abc", "a\u0300\u0301\u0302", "\u200d", "\u200b\u200b", "\ufeffBOM",
             "\u00a0nbsp\u00a0", "x\u3000y", "x\u2028y", "x\u0085y", "x\u180ey", "x\u000by",
             "\u001c\u001d\u001e\u001f", "\x00\x01\x7f", "😀", "👨‍👩‍👧‍👦", "👍🏽👍🏿", "🏳️‍🌈",
             "<|im_start|>user\nhi<|im_end|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>",
             "<|im_start|><|im_end|>", "<|im_start|> user", " <|im_end|> ", "<|im_start",
             "<|im_end|><|im_end|>x", "<<|im_start|>>", "<repo_name>foo<file_sep>bar",
             "<|IM_START|>", "<|endoftext|><|endoftext|>", "text<|endoftext|>more",
             "a" * 300, " " * 200, "\n" * 50, "=" * 120, "ab" * 100, "1" * 100, "😀" * 30,
             "Ġ", "ĠĠ", "Ċ", "âĢĻ", "\u0100\u0120", "ÿ", "\u00ad soft hyphen"]
    return cases


def generate(count, seed):
    rng = random.Random(seed)
    lines = edge_cases()
    while len(lines) < count:
        n = rng.choice([1, 1, 2, 3, 4, 6])
        sep = lambda: rng.choice(["", " ", " ", "\n", "\t", ", "])  # noqa: E731
        text = "".join(random_fragment(rng) + sep() for _ in range(n))
        if rng.random() < 0.1:
            text = random_chat(rng)
        if rng.random() < 0.2:
            text = text.rstrip()
        lines.append(text)
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests/data/tokenizer/corpus.jsonl"))
    ap.add_argument("--count", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args()
    lines = generate(args.count, args.seed)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for text in lines:
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} lines to {args.out}")


if __name__ == "__main__":
    main()
