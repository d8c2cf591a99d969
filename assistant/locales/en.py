"""English: the reference catalogue. Every message id is here; the other catalogues translate these."""

NAME = "English"
BABEL_LOCALE = "en"

MESSAGES: dict[str, str] = {
    # -- fixed replies -------------------------------------------------------------------------------------
    "greeting": "Hello! I can help with products, your orders, and our shop's policies. What would you like to know?",
    "greeting_named": "Hello, {name}! I can help with products, your orders, and our shop's policies. What would "
                      "you like to know?",
    "nothing_found": "I'm sorry, I don't know that: I couldn't find it in {shop}'s information. "
                     "Would you like me to connect you with a person from our team?",
    "unavailable": "I'm sorry, I can't look that up right now. Would you like me to connect you with a person from "
                   "our team?",
    #: a reply that contains this offers a person: a "yes" to it starts a hand-over
    "offers_a_person": "connect you with a person",
    "refuse_other_order": "I can only discuss your own orders, and {order_id} isn't one of them.",
    # a guest (not signed in) asks about orders
    "guest.sign_in_for_orders": "To see or change your orders, please sign in first: {url} — then ask me again. "
                                "Until then I'm happy to help with our products and policies.",
    "guest.sign_in_for_orders_no_link": "To see or change your orders, please sign in to your account first, then "
                                        "ask me again. Until then I'm happy to help with our products and policies.",
    "blocked.empty": "Ask me anything about our products, your orders, or our policies.",
    "blocked.too_long": "That message is too long for me ({length} characters; the limit is {limit}). "
                        "Could you ask in a shorter message?",
    "blocked.unreadable": "I couldn't read that message. Could you type your question again?",
    # -- hand-overs ----------------------------------------------------------------------------------------
    "handover.customer_request": "I've asked a person from our team to take over this conversation. They will "
                                 "reply here shortly.",
    "handover.angry_customer": "I'm sorry about this. I've asked a person from our team to take over this "
                               "conversation. They will reply here shortly.",
    "handover.policy_restriction": "I understand. I can't make an exception to the policy myself, so I've asked a "
                                   "person from our team to take over this conversation. They will reply here "
                                   "shortly.",
    "handover.missing_knowledge": "I haven't been able to answer, so I've asked a person from our team to take "
                                  "over this conversation. They will reply here shortly.",
    "handover.tool_failure": "I can't look that up right now, so I've asked a person from our team to take over "
                             "this conversation. They will reply here shortly.",
    "handover.waiting": "A person from our team has this conversation and will reply here shortly; they will see "
                        "your message.",
    "handover.held": "A person from our team is with you now and will reply here.",
    # when nobody is there (support.business_hours, signed-in agents): when someone answers, and an e-mail address
    "handover.away": "{queued} {absence} {ask} {purpose}",
    "handover.queued.customer_request": "I've asked a person from our team to take over this conversation.",
    "handover.queued.angry_customer": "I'm sorry about this. I've asked a person from our team to take over this "
                                      "conversation.",
    "handover.queued.policy_restriction": "I understand. I can't make an exception to the policy myself, so I've "
                                          "asked a person from our team to take over this conversation.",
    "handover.queued.missing_knowledge": "I haven't been able to answer, so I've asked a person from our team to "
                                         "take over this conversation.",
    "handover.queued.tool_failure": "I can't look that up right now, so I've asked a person from our team to take "
                                    "over this conversation.",
    "handover.away.closed": "Our team is away right now and will answer here from {when}.",
    "handover.away.no_agent": "Nobody from our team is online right now; a person will answer here as soon as one "
                              "is back.",
    "handover.when": "{day} at {time} ({zone})",
    "handover.ask_contact": "If you would like the answer by e-mail as well, type your e-mail address.",
    "handover.contact_purpose": "We use it only to reply to this conversation, and it is deleted with your data.",
    "handover.contact_saved": "Thank you: a person from our team will answer at that address as well as here. We "
                              "use it only to reply to this conversation.",
    "handover.waiting_away": "Your message is kept for a person from our team, who will answer here as soon as one "
                             "is back.",
    "handover.waiting_ask": "{waiting} {ask} {purpose}",
    # -- the shopper's orders (replies built from the order records) --------------------------------------
    "order.status": "Your order {order_id} is {status}.",
    "order.tracking": "The tracking number of your order {order_id} is {tracking}.",
    "order.no_tracking": "Your order {order_id} has no tracking number yet: its status is {status}.",
    "order.total": "The total of your order {order_id} was {total}.",
    "order.items": "Your order {order_id} has {items}.",
    "order.payments": "Your order {order_id}: {payments}",
    "order.no_payment": "Your order {order_id} has no payment recorded yet.",
    "order.details": "{first} Details: {details}.",
    "order.detail.status": "status {status}",
    "order.detail.placed": "placed {day}",
    "order.detail.delivered": "delivered {day}",
    "order.detail.tracking": "tracking {tracking}",
    "order.detail.items": "items: {items}",
    "order.detail.total": "total {total}",
    "order.item": "{quantity} x {name}",
    "order.item_options": "{quantity} x {name} ({options})",
    "order.no_items": "no items",
    "order.list": "Your latest orders: {orders}.",
    "order.list_line": "{order_id} is {status} (placed {day}, total {total})",
    "order.list_line_tracking": "{order_id} is {status} (placed {day}, total {total}, tracking {tracking})",
    "payment.charge": "Paid {amount} with {method}.",
    "payment.charge_on": "Paid {amount} with {method} on {day}.",
    "payment.authorization": "A hold of {amount} on {method} (charged when the order is processed).",
    "payment.release": "The hold of {amount} on {method} was released.",
    "payment.release_on": "The hold of {amount} on {method} was released on {day}.",
    "payment.refund_pending": "Refund of {amount} to {method} pending until the items are received.",
    "payment.refund": "Refunded {amount}.",
    "payment.refund_on": "Refunded {amount} on {day}.",
    "payment.original_method": "the original method",
    "status.pending": "pending",
    "status.processed": "processed",
    "status.shipped": "shipped",
    "status.delivered": "delivered",
    "status.cancelled": "cancelled",
    "status.returned": "returned",
    # -- products and offers -------------------------------------------------------------------------------
    "products.item": "{name} ({price})",
    "products.item_reason": "{name} ({price}, {reason})",
    "products.picks_named": "{name}, here are some picks for you: {items}.",
    "products.pick_named": "{name}, here is a pick for you: {items}.",
    "products.picks": "Here are some picks for you: {items}.",
    "products.pick": "Here is a pick for you: {items}.",
    "products.yes_these": "Yes, we have these: {items}.",
    "products.yes_this": "Yes, we have this: {items}.",
    "products.options": "Here are some options: {items}.",
    "products.option": "Here is an option: {items}.",
    "products.price": "The {name} costs {price}.",
    "products.price_range": "The {name} costs {low} to {high}.",
    "products.in_stock": "Yes, the {name} is in stock.",
    "products.out_of_stock": "No, the {name} is out of stock right now.",
    "catalog.from_price": "from {price}",
    "catalog.count_available": "The {name} is available in {count} {option} options: {values}.",
    "catalog.count_some": "The {name} comes in {total} {option} options; {count} of them are in stock: {values}.",
    "catalog.count_none": ("None of the {option} options of the {name} is in stock right now"
                           " ({total} offered: {values})."),
    "catalog.cheapest": "The cheapest of {scope} is the {name}: {price}.",
    "catalog.cheapest_out": "The cheapest of {scope} is the {name}: {price}. It is out of stock right now.",
    "catalog.cheapest_stocked": ("The cheapest of {scope} is the {name}: {price}. It is out of stock right now; "
                                 "the cheapest in stock is the {other}: {other_price}."),
    "catalog.dearest": "The most expensive of {scope} is the {name}: {price}.",
    "catalog.dearest_out": "The most expensive of {scope} is the {name}: {price}. It is out of stock right now.",
    "catalog.dearest_stocked": ("The most expensive of {scope} is the {name}: {price}. It is out of stock right now; "
                                "the most expensive in stock is the {other}: {other_price}."),
    "catalog.cheaper": "The {winner} is cheaper: {winner_price}; the {other} is {other_price}.",
    "catalog.dearer": "The {winner} is more expensive: {winner_price}; the {other} is {other_price}.",
    "catalog.same_price": "The {a} and the {b} cost the same: {price}.",
    "catalog.rating": "The {name} is rated {rating} out of 5.",
    "catalog.rating_reviews": "The {name} is rated {rating} out of 5 from {count} reviews.",
    "catalog.attribute": "The {label} of the {name} is {value}.",
    "catalog.attribute_yes": "Yes, the {name} is {label}.",
    "catalog.attribute_no": "No, the {name} is not {label}.",
    "offers.member": "{name}, as a {tier} member you can use: {offers}",
    "offers.lead": "An offer for you: {offers}",
    "offers.one": "{title}: {what} with code {code}.",
    "offers.percent": "{value}% off",
    "offers.fixed": "{amount} off",
    "offers.free_shipping": "free shipping",
    "offers.points": "{value}x points",
    "offers.on": "on {categories}",
    "offers.min_basket": "for orders of {amount} or more",
    "offers.max_discount": "up to {amount}",
    "offers.until": "until {day}",
    # -- policies ------------------------------------------------------------------------------------------
    "policy.quote": "According to {titles}: {sentences}",
    "policy.title": "\u201c{title}\u201d",
    "policy.source": "Source: {titles}.",
    # -- order actions -------------------------------------------------------------------------------------
    "action.sign_in": "Please sign in first: I can only change orders on your own account.",
    "action.no_orders": "I can't find any orders on your account.",
    "action.not_yours": "I can only discuss your own orders, and {order_id} isn't one of them. Nothing was changed.",
    "action.which_order": "Which order would you like to change? {orders}.",
    "action.which_item": "Which item of order {order_id} should it be?",
    "action.which_variant": "Which size or colour would you like instead for order {order_id}?",
    "action.new_address": "What is the new shipping address for order {order_id}? Please write it as: street, "
                          "city, two-letter state and ZIP code.",
    "action.propose": "Here is what will happen if you confirm: {what} Reply \u201cyes\u201d to confirm, or "
                      "\u201cno\u201d to leave it as it is. (This expires in {minutes} minutes.)",
    "action.done": "Done: {what}",
    "action.already_done": "That's already done: {what} Nothing was changed again.",
    "action.nothing_pending": "There's nothing waiting for your confirmation, so nothing was changed.",
    "action.expired": "That request expired (a confirmation is valid for {minutes} minutes), so nothing was "
                      "changed. Ask again if you still want it.",
    "action.declined": "OK, I won't do that: order {order_id} stays as it is. Nothing was changed.",
    "action.declined_nothing": "OK. Is there anything else I can help with?",
    "action.refused": "{reason} Nothing was changed.",
    "action.what.cancel": "order {order_id} ({items}) will be cancelled; {refund}.",
    "action.what.cancel_done": "order {order_id} ({items}) is cancelled; {refund}.",
    "action.what.return": "a return of {items} from order {order_id} will be started; {refund} once we receive "
                          "the items.",
    "action.what.return_done": "a return of {items} from order {order_id} is registered; {refund} once we receive "
                               "the items.",
    "action.what.exchange": "{items} from order {order_id} will be exchanged for {new}, free of charge.",
    "action.what.exchange_done": "{items} from order {order_id} is exchanged for {new}, free of charge.",
    "action.what.address_change": "order {order_id} will ship to {address}.",
    "action.what.address_change_done": "order {order_id} will now ship to {address}.",
    "action.refund": "{amount} will be refunded to your {method}",
    "action.release": "the {amount} hold on your {method} will be released",
    "action.no_refund": "nothing is charged",
    "refusal.status": "Order {order_id} can't be changed that way in its current status.",
    "refusal.window": "Order {order_id} is past the {days}-day window for that.",
    "refusal.changed": "A return or exchange was already requested for order {order_id}.",
    "refusal.no_variant": "That item of order {order_id} doesn't come in the size or colour asked for.",
    "refusal.same_variant": "That is the size and colour you already have in order {order_id}.",
    "refusal.out_of_stock": "The size or colour asked for is sold out, so order {order_id} can't be exchanged "
                            "for it.",
    "refusal.address": "We can't ship order {order_id} to that address.",
    "refusal.other": "I can't do that for order {order_id}.",
    # -- the chat page -------------------------------------------------------------------------------------
    "ui.placeholder": "Ask about products, your orders, or our policies",
    "ui.chat": "Chat",
    "ui.demo_sign_in": "Demo sign-in",
    "ui.sign_in": "Sign in",
    "ui.signed_in": "Signed in as {name}",
    "ui.signed_in_no_name": "Signed in",
    "ui.not_signed_in": "Not signed in",
    "ui.sign_in_unavailable": "Demo sign-in is not available: the shop signs shoppers in on its own pages.",
    "ui.sign_in_first": "Please sign in first (choose a demo customer above).",
    "ui.slow_down": "You're sending messages faster than I can answer. Please wait {seconds} seconds and try again.",
    "ui.in_stock": "in stock",
    "ui.out_of_stock": "out of stock",
    "ui.code": "code",
    "ui.sources": "Sources",
    "ui.from_our_team": "from our team",
    "ui.our_team": "our team",
    "ui.send": "Send",
    "ui.message_label": "Your message",
    "ui.guest_preferences": "While you chatted as a guest you told us: {items}. Save this to your profile, so that "
                            "recommendations and offers use it?",
    "ui.guest_preferences.save": "Save to my profile",
    "ui.guest_preferences.skip": "No thanks",
    "ui.guest_preferences.saved": "Saved to your profile: {items}.",
    "ui.guest_preferences.not_saved": "Nothing was saved to your profile.",
    "ui.choose_customer": "Choose a demo customer",
    "ui.personalize": "Personalize my answers, recommendations and offers",
    "ui.personalize_info": "Off: no recommendations or offers from your tastes, and nothing new is learned from "
                           "your chats.",
    "ui.preferences.title": "What we think you like",
    "ui.preferences.signed_out": "Sign in to see what we think you like.",
    "ui.preferences.empty": "Nothing yet: as you chat, what you tell us about your tastes shows up here.",
    "ui.preferences.what": "what",
    "ui.preferences.from": "from",
    "ui.preferences.confidence": "confidence",
    "ui.preferences.used": "used",
    "ui.preferences.told": "you told us",
    "ui.preferences.inferred": "our chats ({count}×)",
    "ui.preferences.yes": "yes",
    "ui.preferences.remove_label": "Remove a preference (for good: we will not guess it again)",
    "ui.preferences.remove": "Remove",
    "ui.kind.category": "Category",
    "ui.kind.brand": "Brand",
    "ui.kind.size": "Size",
    "ui.kind.colour": "Colour",
    "ui.kind.budget": "Budget",
    "ui.kind.occasion": "Occasion",
    "ui.kind.dislike": "Dislikes",
    "ui.kind.style": "Style",
    "ui.kind.material": "Material",
    "ui.rating.title": "How did we do?",
    "ui.rating.question": "How happy are you with this conversation?",
    "ui.rating.scale": "1 = very unhappy, 5 = very happy",
    "ui.rating.comment": "Anything you would like to tell us? (optional)",
    "ui.rating.send": "Send rating",
    "ui.rating.thanks": "Thank you for rating this conversation!",
    "ui.rating.pick": "Please choose a rating from 1 to 5 first.",
    "ui.rating.too_long": "Please keep the comment to {limit} characters or fewer.",
    "ui.rating.failed": "Your rating could not be saved; please try again in a moment.",
}

#: example questions the chat page offers
EXAMPLES = (
    "How long do I have to return something?",
    "Where is my latest order?",
    "I need running shoes under $100",
    "Can you recommend something for me?",
    "Do I have any offers?",
    "How much is express shipping?",
)
