#!/usr/bin/env python3
"""Writes examples/support-intent: customer messages over nine intents, built from openers,
intent-specific requests, details (order numbers, products, dates) and sign-offs, in several
registers (terse, polite, annoyed). Run: python3 scripts/examples/make_support_intent.py"""
import random

from common import cap, unique, write_splits

SEED = 2024
PER_INTENT = 50

PRODUCTS = ["the blue hoodie", "my headphones", "the standing desk", "a pair of trail shoes",
            "the espresso machine", "the kids' bike helmet", "my phone charger", "the yoga mat",
            "the 4K monitor", "a set of pans", "the garden hose", "the winter jacket"]
# Only gadgets can crash, pair over Bluetooth or need a plug.
GADGETS = ["my headphones", "the espresso machine", "the 4K monitor", "the smart speaker",
           "the fitness tracker", "my e-reader", "the robot vacuum", "the wifi camera"]
WHEN = ["last Tuesday", "two weeks ago", "on the 3rd", "yesterday", "over a month ago",
        "on Black Friday", "at the weekend", "ten days ago"]
OPENERS = ["Hi,", "Hello there,", "Hey,", "Good morning,", "Hi team,", "", "", "Quick question:",
           "Sorry to bother you,", "Ugh,"]
CLOSERS = ["Thanks!", "Thank you.", "Cheers.", "Please help.", "Appreciate it.", "", "", "",
           "Let me know asap.", "Thanks in advance."]

INTENTS = {
    "refund": [
        "I'd like my money back for {product}",
        "can I get a refund on {product}? It arrived damaged",
        "I returned {product} {when} and still haven't been refunded",
        "how long does a refund take to reach my card?",
        "please refund order {order}, it wasn't what I expected",
        "I want to return {product} and get a full refund",
        "the refund for order {order} shows as pending, when will it clear?",
    ],
    "shipping_status": [
        "where is my order {order}?",
        "my package was due {when} and hasn't arrived",
        "the tracking for order {order} hasn't updated in days",
        "has {product} shipped yet?",
        "can you tell me when order {order} will be delivered?",
        "the courier says delivered but there's nothing at my door",
        "is there any way to track {product}?",
    ],
    "cancel_order": [
        "please cancel order {order}",
        "I ordered {product} by mistake, can you cancel it before it ships?",
        "I need to cancel my order from {when}",
        "how do I cancel order {order}? I found it cheaper elsewhere",
        "cancel my subscription order please, I no longer need it",
        "I changed my mind about {product}, please don't send it",
    ],
    "change_address": [
        "I moved {when}, can you update the delivery address on order {order}?",
        "please ship order {order} to my office instead of my home",
        "I typed the wrong postcode for order {order}",
        "can I change where {product} gets delivered?",
        "my apartment number is missing from the address on order {order}",
        "how do I update my default shipping address?",
    ],
    "password_reset": [
        "I can't log in, I forgot my password",
        "the password reset email never arrives",
        "my reset link says it has expired",
        "how do I change my password?",
        "I'm locked out after too many login attempts",
        "I need to reset my password but I no longer use that email",
    ],
    "billing_issue": [
        "I was charged twice for order {order}",
        "there's a charge on my card I don't recognise from {when}",
        "my invoice for order {order} shows the wrong amount",
        "the discount code wasn't applied to my bill",
        "why was I billed for a subscription I cancelled?",
        "I need a VAT invoice for order {order}",
        "my card was declined but the money still left my account",
    ],
    "product_info": [
        "is {product} available in a larger size?",
        "does {product} come with a warranty?",
        "what materials is {product} made from?",
        "will {product} be back in stock soon?",
        "is {product} suitable for beginners?",
        "what are the dimensions of {product}?",
        "does {gadget} work with a European plug?",
    ],
    "complaint": [
        "I'm really unhappy with how I was treated by your agent",
        "this is the third time order {order} has gone wrong and I'm fed up",
        "your customer service has been appalling",
        "{product} is nothing like the photos and I feel misled",
        "I waited on hold for an hour and got cut off",
        "the driver was rude and threw {product} over the fence",
        "I want to make a formal complaint about my experience",
    ],
    "technical_support": [
        "the app crashes every time I open my basket",
        "{gadget} won't turn on after the latest update",
        "I can't pair {gadget} with my phone over Bluetooth",
        "the checkout page shows an error 500",
        "the website won't load on my tablet",
        "{gadget} keeps disconnecting from wifi",
        "the firmware update failed halfway and now it's stuck",
    ],
}
# Extra phrasings that make messages longer or more emotional without changing the intent.
TAILS = ["", "", "", " My order number is {order}.", " This is urgent.",
         " I've already emailed once.", " I'm a regular customer.", " I bought it {when}."]


def message(rng, intent):
    order = f"#{rng.randint(10000, 99999)}"
    body = rng.choice(INTENTS[intent]).format(product=rng.choice(PRODUCTS), gadget=rng.choice(GADGETS),
                                              when=rng.choice(WHEN), order=order)
    tail = rng.choice(TAILS).format(order=order, when=rng.choice(WHEN))
    if "order number" in tail and order in body:
        tail = ""
    opener = rng.choice(OPENERS)
    body = body if opener.endswith(",") and not body.startswith("I ") else cap(body)
    parts = [opener, body + ("" if body.endswith("?") else "."), tail.strip(),
             rng.choice(CLOSERS)]
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.15:  # terse, lowercase chat style
        text = text.lower().replace(".", "")
    return text


def main():
    rng = random.Random(SEED)
    rows = []
    for intent in INTENTS:
        made = []
        while len(made) < PER_INTENT:
            made = unique(made + [{"text": message(rng, intent), "label": intent}], "text")
        rows += made
    write_splits("support-intent", rows, seed=SEED, stratify="label")


if __name__ == "__main__":
    main()
