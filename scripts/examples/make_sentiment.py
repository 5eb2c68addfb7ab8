#!/usr/bin/env python3
"""Writes examples/sentiment: balanced positive/negative review sentences about products,
restaurants and movies, including negation ("not bad at all") and mixed ("..., but ...") cases
whose label follows the overall verdict. Run: python3 scripts/examples/make_sentiment.py"""
import random

from common import cap, unique, write_splits

SEED = 1234
PER_LABEL = 180

DOMAINS = {
    "product": {
        "things": ["this blender", "the headphones", "my new laptop", "the phone case", "this vacuum",
                   "the running shoes", "the coffee maker", "this backpack", "the desk lamp",
                   "the smartwatch", "the kettle", "this office chair", "the wireless mouse",
                   "the air fryer", "this tent"],
        "pos_aspects": ["the battery lasts for days", "it feels solid and well made",
                        "setup took two minutes", "it is whisper quiet", "the sound is crisp",
                        "it fits perfectly", "it heats up in seconds", "the price was fair",
                        "it survived a drop onto tiles", "the instructions were clear"],
        "neg_aspects": ["the battery died within an hour", "a button snapped off on day two",
                        "it rattles constantly", "the strap frays at the edges",
                        "it overheats after ten minutes", "the charger stopped working",
                        "it smells of burnt plastic", "the zip jammed the first time",
                        "the app keeps disconnecting", "half the screws were missing"],
    },
    "restaurant": {
        "things": ["the new Thai place downtown", "this bistro", "the pizza we ordered",
                   "the brunch menu", "our waiter", "the ramen", "the tasting menu",
                   "the corner cafe", "the seafood platter", "the dessert", "the burger joint",
                   "the vegan curry", "the wine list"],
        "pos_aspects": ["the staff remembered our names", "every dish came out hot",
                        "the portions were generous", "the broth was rich and fragrant",
                        "we were seated right away", "the crust was perfectly charred",
                        "the flavours were balanced", "the service was warm and quick",
                        "the bill was reasonable", "the patio was lovely at sunset"],
        "neg_aspects": ["we waited forty minutes for a table", "the fries were soggy",
                        "the soup arrived lukewarm", "the server ignored us all night",
                        "the chicken was dry", "the room was deafeningly loud",
                        "they got our order wrong twice", "the bread was stale",
                        "the bill had items we never ordered", "the tables were sticky"],
    },
    "movie": {
        "things": ["the film", "this sequel", "the documentary", "the new thriller",
                   "this animated movie", "the period drama", "the lead performance",
                   "the soundtrack", "the final act", "this comedy", "the horror remake",
                   "the screenplay"],
        "pos_aspects": ["the twist genuinely surprised me", "the cast has real chemistry",
                        "every frame looks gorgeous", "the jokes land", "the pacing never drags",
                        "the score gave me chills", "the dialogue feels natural",
                        "the ending is deeply moving", "the action is easy to follow",
                        "it respects the audience"],
        "neg_aspects": ["the plot makes no sense", "the dialogue is wooden",
                        "it drags for two and a half hours", "the jokes fall flat",
                        "the ending is rushed", "the villain is a cardboard cutout",
                        "the editing is choppy", "the twist is obvious from the start",
                        "the effects look cheap", "nothing happens for the first hour"],
    },
}

POS_VERDICTS = ["I loved it", "highly recommended", "worth every penny", "I would go back",
                "an easy five stars", "I am genuinely impressed", "it exceeded my expectations",
                "I will be telling my friends", "a real delight", "better than I hoped"]
NEG_VERDICTS = ["I regret it", "avoid it", "a complete waste of money", "I will not be back",
                "one star is generous", "I am really disappointed", "it fell far short",
                "I want my money back", "a total letdown", "worse than I feared"]
POS_ADJ = ["fantastic", "excellent", "wonderful", "superb", "delightful", "terrific", "great"]
NEG_ADJ = ["terrible", "awful", "dreadful", "disappointing", "mediocre", "poor", "frustrating"]
# Negated forms flip polarity: "not bad at all" is praise, "not good" a complaint.
NEG_OF_NEG = ["not bad at all", "far from disappointing", "anything but boring", "never dull",
              "not overpriced in the slightest"]
NEG_OF_POS = ["not good", "not worth it", "hardly enjoyable", "not what I would call tasty",
              "nowhere near as good as the reviews say"]


def sentence(rng, label):
    d = DOMAINS[rng.choice(sorted(DOMAINS))]
    thing = rng.choice(d["things"])
    good, bad = rng.choice(d["pos_aspects"]), rng.choice(d["neg_aspects"])
    pos = label == "positive"
    adj = rng.choice(POS_ADJ if pos else NEG_ADJ)
    verdict = rng.choice(POS_VERDICTS if pos else NEG_VERDICTS)
    aspect = good if pos else bad
    pattern = rng.randrange(8)
    if pattern == 0:
        return f"{cap(thing)} is {adj}: {aspect}."
    if pattern == 1:
        return f"{cap(aspect)}, so {verdict}."
    if pattern == 2:  # negation
        return f"Honestly, {thing} was {rng.choice(NEG_OF_NEG if pos else NEG_OF_POS)}."
    if pattern == 3:  # mixed, overall verdict last
        first, second = (bad, good) if pos else (good, bad)
        return f"{cap(first)}, but {second}, and overall {verdict}."
    if pattern == 4:
        return f"{cap(verdict)} - {aspect}."
    if pattern == 5:
        opener = rng.choice(["I went in with low expectations", "A friend recommended it",
                             "We tried it last weekend", "I bought it on a whim",
                             "After reading the reviews I was curious"])
        return f"{opener}, and {thing} turned out {adj}; {aspect}."
    if pattern == 6:  # mixed in the other order
        return (f"Although {bad if pos else good}, {thing} was {adj} overall"
                f" because {aspect}.")
    return f"{cap(thing)}? {cap(adj)}. {cap(aspect)}."


def main():
    rng = random.Random(SEED)
    rows = []
    for label in ["positive", "negative"]:
        made = []
        while len(made) < PER_LABEL:
            made = unique(made + [{"text": sentence(rng, label), "label": label}], "text")
        rows += made
    write_splits("sentiment", rows, seed=SEED, stratify="label")


if __name__ == "__main__":
    main()
