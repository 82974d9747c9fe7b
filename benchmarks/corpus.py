"""A deterministic, news-like synthetic corpus for speed and memory runs.

Each document: a headline, sometimes a byline and stamp, 8-30 paragraphs of
prose (Zipf-weighted words from a news vocabulary), a few boilerplate lines of the kinds
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

# Prose is drawn word by word from a news vocabulary with Zipf-like weights (the
# most frequent words first), so that lines look like real text to a pre-pass:
# most words are common, a few are rare, and no two paragraphs are alike.
FUNCTION = (
    "the of and to a in that is was for on it with as at by he said from his be have are has but "
    "not an they this which were had who their been would will its or more after she about over "
    "than also up her into one two some when there could new other out them only last year first "
    "people we all most can may time if while so before three under what because against what no "
    "now since between where during many how much those these while our any such both through"
).split()
CONTENT = (
    "government council minister officials police week month company market prices city region "
    "plans project report budget money cost costs residents families children school schools "
    "hospital patients doctors health service services staff workers jobs wages strike union "
    "election vote voters party leader president spokesman statement announced confirmed warned "
    "added told according expected million billion percent rise fall growth inflation interest "
    "rates bank energy gas oil supply demand shortage crisis local national international public "
    "private security support funding tax spending cuts policy law court judge case investigation "
    "evidence officers arrested charged trial weather storm flooding heat record temperatures "
    "scientists research study data results university team technology software users online "
    "platform network phone customers business firms industry match season club players coach "
    "game final league fans stadium film music festival show book author history museum building "
    "housing homes property rent transport rail train station airport flights passengers road "
    "traffic river water food farmers land environment emissions power electricity wind solar "
    "village town streets morning evening night committee inquiry review decision proposal measures "
    "significant major key recent latest current former senior young older independent serious "
    "difficult important increased reduced continued described suggested remained reported claimed "
    "launched faced called across during without within around among despite following including "
    "ahead further however although meanwhile instead already almost likely nearly recently "
    "harbour bridge terminal ferry port coast island beach hotel tourism visitors restaurant "
    "shops centre park garden library theatre church memorial anniversary celebration parade "
    "volunteers charity donation appeal campaign petition protest march rally demonstration "
    "contract tender developer construction site planning permission application objections "
    "neighbours noise parking buses cycle lane pavement junction roundabout motorway tunnel"
).split()
VOCAB = FUNCTION + CONTENT
WEIGHTS = [1 / (rank + 8) for rank in range(len(VOCAB))]
NAMES = ["Jane Doe", "Tom Ellery", "María García", "Ahmed Khan", "Claire Dubois", "Peter Novak", "Yuki Sato"]
AGENCIES = ["Reuters", "AFP via Getty Images", "Getty Images", "Alamy", "PA Media", "Shutterstock", "EPA"]
PLACES = ["London", "Glasgow", "Bristol", "Cardiff", "Leeds", "Dublin", "Manchester"]


def sentence(rng: random.Random) -> str:
    n = rng.randint(9, 26)
    words = rng.choices(VOCAB, WEIGHTS, k=n)
    if rng.random() < 0.4:
        words[rng.randrange(n)] = rng.choice(PLACES)
    if rng.random() < 0.3:
        words.insert(rng.randrange(1, n), rng.choice(NAMES))
    if n > 14 and rng.random() < 0.5:
        words[rng.randrange(3, n - 3)] += ","
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", ".", "?", "!"])


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(1, 5)))


def headline(rng: random.Random) -> str:
    return " ".join(w.capitalize() for w in rng.sample(CONTENT, rng.randint(5, 11)))


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
