"""Captions and tokenizers for the fashion-flux text-to-image model (tools/train_fashion_flux.py).

* Captions: Fashion-MNIST class names with several synonyms each and a set of templates; the synonyms are kept
  unambiguous per class. `caption(label, rng)` draws one; an empty caption is drawn by the trainer.
* CLIP: an exact byte-level BPE over the real `vocab.json` / `merges.txt` (OpenAI's simple_tokenizer as
  transformers' CLIPTokenizer runs it: lower case, whitespace collapsed, `<|startoftext|>` + tokens +
  `<|endoftext|>`, truncated to 77 keeping the end token, padded with `<|endoftext|>` = 49407). ASCII captions only
  (the letter / digit classes of the real pattern are taken as ASCII here; ftfy is not needed for them).
* T5: the real `spiece.model` through `sentencepiece` (python3-sentencepiece): ids + `</s>` (1), truncated to the
  length keeping `</s>`, padded with `<pad>` (0).

Both are checked against the C# tokenizers (`stork tokenize`) by `--check-tokenizers` of the trainer.
"""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TOKENIZERS = os.path.join(REPO, "tests", "Stork.Tests", "Data", "tokenizers")

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Synonyms per class: (singular, plural-or-None). Unambiguous across classes.
SYNONYMS = [
    [("t-shirt", "t-shirts"), ("tee", "tees"), ("tshirt", "tshirts"), ("t shirt", "t shirts"), ("top", "tops"),
     ("tee shirt", "tee shirts"), ("short-sleeved top", "short-sleeved tops"), ("tank top", "tank tops")],
    [("trousers", None), ("pants", None), ("jeans", None), ("slacks", None), ("trouser", None),
     ("pair of trousers", None), ("pair of pants", None), ("pair of jeans", None), ("leggings", None)],
    [("pullover", "pullovers"), ("sweater", "sweaters"), ("jumper", "jumpers"), ("sweatshirt", "sweatshirts"),
     ("knit sweater", "knit sweaters"), ("hoodie", "hoodies"), ("cardigan", "cardigans")],
    [("dress", "dresses"), ("gown", "gowns"), ("frock", "frocks"), ("sundress", "sundresses"),
     ("summer dress", "summer dresses"), ("evening dress", "evening dresses")],
    [("coat", "coats"), ("jacket", "jackets"), ("overcoat", "overcoats"), ("parka", "parkas"),
     ("raincoat", "raincoats"), ("winter coat", "winter coats"), ("trench coat", "trench coats"), ("anorak", None)],
    [("sandal", "sandals"), ("flip-flop", "flip-flops"), ("flip flop", "flip flops"), ("strappy sandal", None),
     ("summer sandal", "summer sandals"), ("high-heeled sandal", "high-heeled sandals")],
    [("shirt", "shirts"), ("button-up shirt", "button-up shirts"), ("button-down shirt", "button-down shirts"),
     ("blouse", "blouses"), ("collared shirt", "collared shirts"), ("long-sleeved shirt", "long-sleeved shirts"),
     ("flannel shirt", "flannel shirts")],
    [("sneaker", "sneakers"), ("trainer", "trainers"), ("running shoe", "running shoes"),
     ("athletic shoe", "athletic shoes"), ("tennis shoe", "tennis shoes"), ("sports shoe", "sports shoes"),
     ("low-top sneaker", "low-top sneakers")],
    [("bag", "bags"), ("handbag", "handbags"), ("purse", "purses"), ("tote", "totes"), ("tote bag", "tote bags"),
     ("shoulder bag", "shoulder bags"), ("satchel", "satchels"), ("backpack", "backpacks"), ("clutch", None)],
    [("ankle boot", "ankle boots"), ("boot", "boots"), ("ankle-boot", "ankle-boots"), ("bootie", "booties"),
     ("chelsea boot", "chelsea boots"), ("short boot", "short boots"), ("leather boot", "leather boots")],
]

# {a} is the article ("a"/"an") with the noun, {n} the bare noun phrase. Plural templates use the plural.
TEMPLATES = [
    "{n}", "{a}", "a photo of {a}", "a picture of {a}", "an image of {a}", "{a}, product shot",
    "a grey {n}", "a gray {n}", "a black and white photo of {a}", "{a} on a black background",
    "a small photo of {a}", "a low resolution photo of {a}", "fashion item: {n}", "product photo of {a}",
    "a photograph of {a}", "{n}, fashion-mnist", "a {n} for sale", "a catalogue image of {a}", "a drawing of {a}",
    "a close-up of {a}", "this is {a}", "my {n}", "the {n}", "{n}.", "A PHOTO OF {A}", "{N}",
]
PLURAL_TEMPLATES = ["{p}", "a photo of {p}", "a picture of {p}", "two {p}", "some {p}", "{p}, product shot"]


def _article(noun):
    if noun.startswith("pair of") or noun in ("trousers", "pants", "jeans", "slacks", "leggings"):
        return noun
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def caption(label, rng):
    """A random caption of class `label`; rng is a numpy RandomState / Generator (uses .integers or .randint)."""
    pick = (lambda n: int(rng.integers(n))) if hasattr(rng, "integers") else (lambda n: int(rng.randint(n)))
    noun, plural = SYNONYMS[label][pick(len(SYNONYMS[label]))]
    if plural is not None and pick(6) == 0:
        return PLURAL_TEMPLATES[pick(len(PLURAL_TEMPLATES))].format(p=plural)
    t = TEMPLATES[pick(len(TEMPLATES))]
    a = _article(noun)
    return t.format(n=noun, a=a, N=noun.upper(), A=a.upper())


def all_captions():
    """Every caption the generator can produce, per class (for exhaustive pre-tokenization)."""
    out = []
    for label in range(10):
        s = set()
        for noun, plural in SYNONYMS[label]:
            a = _article(noun)
            for t in TEMPLATES:
                s.add(t.format(n=noun, a=a, N=noun.upper(), A=a.upper()))
            if plural is not None:
                for t in PLURAL_TEMPLATES:
                    s.add(t.format(p=plural))
        out.append(sorted(s))
    return out


# ---------------------------------------------------------------- CLIP BPE


def _bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class ClipTokenizer:
    BOS, EOS, PAD, LENGTH = 49406, 49407, 49407, 77

    def __init__(self, folder=os.path.join(TOKENIZERS, "clip-l")):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            merges = f.read().strip().split("\n")[1:49152 - 256 - 2 + 1]
        self.ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        self.byte_encoder = _bytes_to_unicode()
        self.pat = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-zA-Z]+|[0-9]|"
                              r"[^\sa-zA-Z0-9]+", re.IGNORECASE)
        self.cache = {}

    def _bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            new, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new.extend(word[i:])
                    break
                new.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        self.cache[token] = word
        return word

    def encode(self, text):
        text = re.sub(r"\s+", " ", text).strip().lower()
        ids = []
        for tok in self.pat.findall(text):
            tok = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(tok))
        ids = [self.BOS] + ids[:self.LENGTH - 2] + [self.EOS]
        return ids + [self.PAD] * (self.LENGTH - len(ids))


class T5Tokenizer:
    EOS, PAD = 1, 0

    def __init__(self, folder=os.path.join(TOKENIZERS, "t5")):
        import sentencepiece as spm
        self.sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "spiece.model"))

    def encode(self, text, length):
        ids = self.sp.encode(text)[:length - 1] + [self.EOS]
        return ids + [self.PAD] * (length - len(ids))
