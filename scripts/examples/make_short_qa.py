#!/usr/bin/env python3
"""Writes examples/short-qa: short-answer questions about fictional companies. Each example
carries a small knowledge-base passage (facts in shuffled order, varied phrasing) and one
question whose answer is a span of it. Run: python3 scripts/examples/make_short_qa.py"""
import random

from common import write_splits

SEED = 77
QUESTIONS_PER_COMPANY = 5

FIRST = ["Aldo", "Brine", "Cobalt", "Dune", "Ember", "Fjord", "Gale", "Harbor", "Iris", "Juniper",
         "Kestrel", "Lumen", "Marrow", "Nimbus", "Orchid", "Pike", "Quill", "Rowan", "Sable",
         "Tidal", "Umber", "Vale", "Willow", "Yarrow", "Zephyr", "Alder", "Basalt", "Cinder",
         "Delta", "Elm", "Flint", "Garnet", "Heron", "Indigo"]
SUFFIX = ["Works", "Labs", "Outfitters", "Systems", "Goods", "Supply", "Robotics", "Foods",
          "Textiles", "Analytics"]
CITIES = ["Lisbon", "Tallinn", "Porto", "Leeds", "Ghent", "Bergen", "Lyon", "Krakow", "Malmo",
          "Cork", "Graz", "Turin", "Utrecht", "Aarhus", "Bilbao", "Brno"]
PEOPLE = ["Maya Okafor", "Tomas Lindqvist", "Priya Raman", "Jonah Weiss", "Elena Marchetti",
          "Samir Haddad", "Grace Kim", "Oskar Nowak", "Lucia Fernandes", "Daniel Mbeki",
          "Hannah Berg", "Rafael Ortiz", "Ingrid Solberg", "Kenji Watanabe", "Amara Diallo"]
PRODUCTS = {
    "Works": ["hand tools", "workbenches", "ladders"],
    "Labs": ["water filters", "lab scales", "soil sensors"],
    "Outfitters": ["hiking boots", "rain jackets", "tents"],
    "Systems": ["payroll software", "door access systems", "backup servers"],
    "Goods": ["ceramic mugs", "linen towels", "candles"],
    "Supply": ["office paper", "packing boxes", "printer ink"],
    "Robotics": ["warehouse robots", "robot lawnmowers", "drone kits"],
    "Foods": ["oat biscuits", "hot sauce", "frozen dumplings"],
    "Textiles": ["wool blankets", "cotton shirts", "denim"],
    "Analytics": ["sales dashboards", "fraud detection tools", "survey software"],
}
COLORS = ["green", "orange", "purple", "teal", "yellow", "red", "navy", "silver"]

# Each fact: (key, statement templates, question templates). {c} = company name.
FACTS = [
    ("city", ["{c} is headquartered in {v}.", "{c} has its head office in {v}.",
              "The main office of {c} is in {v}."],
     ["Where is {c} headquartered?", "In which city is the head office of {c}?",
      "What city is {c} based in?"]),
    ("year", ["{c} was founded in {v}.", "{c} opened for business in {v}.",
              "Since its founding in {v}, {c} has grown steadily."],
     ["In what year was {c} founded?", "When was {c} founded?", "What year did {c} start?"]),
    ("ceo", ["The chief executive of {c} is {v}.", "{v} has led {c} as CEO for several years.",
             "{c} is run by its CEO, {v}."],
     ["Who is the CEO of {c}?", "Who runs {c}?", "Who is the chief executive of {c}?"]),
    ("product", ["{c} is best known for its {v}.", "The flagship line at {c} is {v}.",
                 "Most of the revenue of {c} comes from {v}."],
     ["What is {c} best known for?", "What is the flagship product line of {c}?",
      "What does most of {c}'s revenue come from?"]),
    ("returns", ["Customers of {c} can return items within {v} days.",
                 "{c} accepts returns for {v} days after delivery.",
                 "The return window at {c} is {v} days."],
     ["How many days do customers of {c} have to return an item?",
      "How long is the return window at {c}, in days?",
      "Within how many days can you return something to {c}?"]),
    ("staff", ["{c} employs {v} people.", "About {v} people work at {c}.",
               "{c} has a staff of {v}."],
     ["How many people does {c} employ?", "How many employees does {c} have?",
      "What is the size of {c}'s staff?"]),
    ("color", ["The {c} logo is {v}.", "{c} uses a {v} logo.", "You can spot {c} by its {v} logo."],
     ["What colour is the {c} logo?", "What is the colour of {c}'s logo?",
      "Which colour does {c} use for its logo?"]),
]


def company(rng, name):
    suffix = name.split()[-1]
    return {
        "city": rng.choice(CITIES),
        "year": str(rng.randint(1952, 2021)),
        "ceo": rng.choice(PEOPLE),
        "product": rng.choice(PRODUCTS[suffix]),
        "returns": str(rng.choice([14, 21, 30, 45, 60, 90])),
        "staff": str(rng.choice([12, 35, 80, 140, 260, 400, 1200, 3500])),
        "color": rng.choice(COLORS),
    }


def main():
    rng = random.Random(SEED)
    names = [f"{first} {rng.choice(SUFFIX)}" for first in FIRST]
    rows = []
    for name in names:
        facts = company(rng, name)
        statements = [rng.choice(stmts).format(c=name, v=facts[key]) for key, stmts, _ in FACTS]
        rng.shuffle(statements)
        context = " ".join(statements)
        for key, _, questions in rng.sample(FACTS, QUESTIONS_PER_COMPANY):
            rows.append({"context": context, "question": rng.choice(questions).format(c=name),
                         "answer": facts[key]})
    write_splits("short-qa", rows, fractions=(0.5, 0.2, 0.3), seed=SEED)


if __name__ == "__main__":
    main()
