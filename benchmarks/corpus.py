"""A deterministic, news-like synthetic corpus for speed and memory runs.

Each document: a headline, sometimes a byline and stamp, 8-30 paragraphs of
prose (sentences from a fixed vocabulary), a few boilerplate lines of the kinds
the bundled rules remove (credits, captions, promos, tag lists, calls to
action, a recommendation block), and near misses that must stay. About 8 % of
the lines are boilerplate, as on real extracted pages. Usage:

    python benchmarks/corpus.py --mib 100 --out /tmp/corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WORDS = (
    "the council said on tuesday that it would review the plans for the new harbour terminal after "
    "residents raised concerns about traffic noise and the cost of the project which has already "
    "doubled since it was first proposed three years ago officials told reporters that the budget "
    "was under pressure from rising energy prices and falling income from parking while opposition "
    "members argued that the money should go to schools housing and local buses instead a spokesman "
    "for the operator confirmed that talks were continuing and that no final decision had been taken "
    "but added that the company remained committed to the town and to the jobs it had promised"
).split()
NAMES = ["Jane Doe", "Tom Ellery", "María García", "Ahmed Khan", "Claire Dubois", "Peter Novak", "Yuki Sato"]
AGENCIES = ["Reuters", "AFP via Getty Images", "Getty Images", "Alamy", "PA Media", "Shutterstock", "EPA"]
PLACES = ["London", "Glasgow", "Bristol", "Cardiff", "Leeds", "Dublin", "Manchester"]


def sentence(rng: random.Random) -> str:
    n = rng.randint(9, 26)
    start = rng.randrange(len(WORDS) - n)
    words = WORDS[start:start + n]
    if rng.random() < 0.3:
        words[rng.randrange(n)] = rng.choice(PLACES)
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(1, 5)))


def headline(rng: random.Random) -> str:
    return " ".join(w.capitalize() for w in rng.sample(WORDS, rng.randint(5, 11)))


BOILERPLATE = [
    lambda r: f"Featured Image Credit: {r.choice(AGENCIES)}",
    lambda r: f"Photo: {r.choice(NAMES)}/{r.choice(AGENCIES)}",
    lambda r: f"{headline(r)} ({r.choice(['Alamy', 'Getty Images', 'Reuters'])})",
    lambda r: f"READ MORE: {headline(r)}",
    lambda r: "Topics: " + ", ".join(r.sample(["News", "Politics", "UK News", "Transport", "Energy", "Housing"], 4)),
    lambda r: "Sign up to our daily newsletter for the latest news",
    lambda r: "Share this article",
    lambda r: "Advertisement",
    lambda r: f"{r.randint(2, 9)} min read",
    lambda r: "Follow us on Twitter and Facebook",
    lambda r: "Download our app for iOS and Android",
]
NEAR_MISSES = [
    "The photo credit went to a local student, whose picture of the pier won the prize.",
    "Read more about the budget in our guide, the minister said on Tuesday.",
    "Getty Images said in a statement that it would appeal against the ruling.",
    "She decided to follow us on the long walk back to the village that evening.",
]


def document(rng: random.Random) -> str:
    title = headline(rng)
    lines = [title]
    if rng.random() < 0.5:
        lines += [f"By {rng.choice(NAMES)}", f"{rng.randint(1, 28)} March 2024"]
    if rng.random() < 0.3:
        lines.append(title)  # headline printed twice
    body = [paragraph(rng) for _ in range(rng.randint(8, 30))]
    for _ in range(rng.randint(1, 4)):
        body.insert(rng.randrange(len(body)), rng.choice(BOILERPLATE)(rng))
    if rng.random() < 0.2:
        body.insert(rng.randrange(len(body)), rng.choice(NEAR_MISSES))
    lines += body
    if rng.random() < 0.5:
        lines += ["More like this", headline(rng), f"{rng.randint(2, 23)} hours ago", headline(rng), "1 day ago"]
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    return sep.join(lines)


def generate(mib: float, seed: int = 20241121):
    """Yield (id, text) until about ``mib`` MiB of text."""
    rng = random.Random(seed)
    total, i = 0, 0
    while total < mib * 1024 * 1024:
        text = document(rng)
        total += len(text.encode("utf-8"))
        yield i, text
        i += 1


def write_jsonl(path: Path, mib: float, seed: int = 20241121) -> int:
    with open(path, "w", encoding="utf-8") as fh:
        n = 0
        for i, text in generate(mib, seed):
            fh.write(json.dumps({"id": i, "url": f"https://news.example/{i}", "text": text}, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=float, default=100)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=20241121)
    args = ap.parse_args()
    print(write_jsonl(args.out, args.mib, args.seed), "documents written to", args.out)
