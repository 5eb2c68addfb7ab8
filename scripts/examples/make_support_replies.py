#!/usr/bin/env python3
"""Writes examples/support-replies: customer messages paired with a reference agent reply.
Each scenario fixes the facts (order number, product, days) that message and reply share; the
reply is assembled from greeting, acknowledgement, action, next step and sign-off fragments.
Run: python3 scripts/examples/make_support_replies.py"""
import random

from common import cap, unique, write_splits

SEED = 99
TOTAL = 130

NAMES = ["Alex", "Sam", "Jordan", "Priya", "Chen", "Fatima", "Lukas", "Maria", "Tom", "Aisha",
         "Noah", "Olga", "Ravi", "Emma", "Kofi"]
PRODUCTS = ["bluetooth speaker", "hiking backpack", "coffee grinder", "desk lamp", "rain jacket",
            "blender", "smart thermostat", "yoga mat", "phone case", "electric kettle"]
GREETINGS = ["Hi {name},", "Hello {name},", "Dear {name},", "Hi {name}, thanks for reaching out."]
# Used when the customer did not sign the message.
ANON_GREETINGS = ["Hi there,", "Hello,", "Thanks for getting in touch.", "Hi, thanks for reaching out."]
SIGNOFFS = ["Best regards, the Support Team", "Kind regards, Support", "Thanks for your patience.",
            "Have a great day!", "Let us know if there is anything else we can do."]

# (customer message templates, acknowledgement, action, next step)
SCENARIOS = [
    (["My order #{order} was supposed to arrive {days} days ago and it still isn't here.",
      "Where is order #{order}? It's {days} days late.",
      "Still waiting on my {product} (order #{order}), it's been {days} days past the delivery date."],
     ["I'm sorry your order is running late.", "I understand how frustrating a late delivery is."],
     ["I checked order #{order} and the courier has it at the local depot.",
      "I've opened a trace on order #{order} with the courier."],
     ["You should receive it within 2 business days, and we'll email you the new tracking link.",
      "If it hasn't arrived in 3 days, we'll send a replacement free of charge."]),
    (["The {product} I received is broken. I want a refund.",
      "My {product} stopped working after {days} days. Can I get my money back?",
      "I'd like to return the {product} from order #{order}, it's faulty."],
     ["I'm sorry the {product} isn't working.", "Thanks for letting us know about the faulty {product}."],
     ["I've issued a full refund for order #{order}.",
      "I've emailed you a prepaid return label for the {product}."],
     ["The refund will reach your card within 5 to 7 business days.",
      "Once we receive it, your refund will be processed within 3 days."]),
    (["Please cancel order #{order}, I ordered the wrong {product}.",
      "Can I still cancel order #{order}? I changed my mind.",
      "I need to cancel my {product} order, number #{order}."],
     ["No problem, we can help with that.", "Thanks for letting us know quickly."],
     ["I've cancelled order #{order} before it was dispatched.",
      "Order #{order} is now cancelled."],
     ["You won't be charged, and any pending payment will be released within 3 days.",
      "You'll get a confirmation email in the next few minutes."]),
    (["I can't log in to my account, the password reset email never arrives.",
      "I'm locked out of my account and the reset link doesn't work.",
      "The password reset link says it has expired."],
     ["Sorry you're having trouble signing in.", "I know being locked out is annoying."],
     ["I've sent a new reset link to the email address on your account.",
      "I've unlocked your account and sent a fresh reset link."],
     ["The link is valid for 24 hours; please check your spam folder if you don't see it.",
      "If it still doesn't arrive, reply here and we'll reset it for you manually."]),
    (["I was charged twice for order #{order}.",
      "There are two payments for my {product} on my statement.",
      "Why did you bill me twice for order #{order}?"],
     ["I'm sorry about the double charge.", "Thanks for spotting that, and sorry for the trouble."],
     ["I can see the duplicate payment for order #{order} and I've refunded it.",
      "I've reversed the second charge for order #{order}."],
     ["It will show on your statement within 5 business days.",
      "Your bank may take up to a week to display the refund."]),
    (["I moved last week. Can you send order #{order} to my new address?",
      "I entered the wrong address for order #{order}, can you change it?",
      "Please deliver my {product} to my work address instead."],
     ["Happy to help with the address.", "Thanks for letting us know before it ships."],
     ["I've updated the delivery address on order #{order}.",
      "Order #{order} will now go to the new address you gave us."],
     ["It's still on track to arrive within {days} days.",
      "You'll receive updated tracking by email shortly."]),
    (["Is the {product} available in black?", "Do you sell the {product} in other colours?"],
     ["Thanks for your interest in the {product}."],
     ["The {product} comes in black, grey and white.",
      "Yes, the {product} is available in black as well as grey."],
     ["You can pick the colour on the product page before checkout."]),
    (["Does the {product} come with a warranty?", "How long is the guarantee on the {product}?"],
     ["Great question about the {product}."],
     ["The {product} comes with a 2-year warranty covering manufacturing faults."],
     ["Keep your order confirmation, as it serves as proof of purchase.",
      "If anything goes wrong, just reply to this email and we'll arrange a repair."]),
    (["When will the {product} be back in stock?", "The {product} has been sold out for weeks. Any news?"],
     ["Sorry the {product} is out of stock right now."],
     ["We expect new stock of the {product} within {days} days."],
     ["You can sign up for a restock alert on the product page.",
      "Let me know if you'd like me to reserve one for you."]),
]


def pair(rng):
    messages, acks, actions, nexts = rng.choice(SCENARIOS)
    facts = {"order": rng.randint(10000, 99999), "days": rng.choice([2, 3, 4, 5, 7, 10]),
             "product": rng.choice(PRODUCTS), "name": rng.choice(NAMES)}
    message = rng.choice(messages).format(**facts)
    if rng.random() < 0.3:
        first = message[0] if message.startswith("I ") or message.startswith("I'") else message[0].lower()
        message = rng.choice(["Hi, ", "Hello, ", "Hey there. "]) + first + message[1:]
    if rng.random() < 0.25:
        message += rng.choice([" Thanks.", " This is really annoying.", " Please help asap."])
    signed = rng.random() < 0.4
    if signed:
        message += rng.choice([f" - {facts['name']}", f" Thanks, {facts['name']}",
                               f" Regards, {facts['name']}"])
    greeting = rng.choice(GREETINGS if signed else ANON_GREETINGS)
    reply = " ".join([greeting, rng.choice(acks), rng.choice(actions),
                      rng.choice(nexts), rng.choice(SIGNOFFS)]).format(**facts)
    return {"message": cap(message), "reference": reply}


def main():
    rng = random.Random(SEED)
    rows = []
    while len(rows) < TOTAL:
        rows = unique(rows + [pair(rng)], "message")
    write_splits("support-replies", rows, fractions=(0.5, 0.15, 0.35), seed=SEED)


if __name__ == "__main__":
    main()
