"""The agent the examples use: run it with ``modx agent run examples.agent:agent`` from the
repository's root (or ``agent:agent`` from this folder)."""

from __future__ import annotations

from pydantic import BaseModel

from agents.sdk import Agent, FatalError, RetryableError, TaskContext

agent = Agent("examples", version="1.0.0", description="Small capabilities for the examples.")

PRICES = {"apple": 0.5, "bread": 2.25, "milk": 1.1}


class Line(BaseModel):
    name: str
    quantity: int


class Cost(BaseModel):
    name: str
    cost: float


class Costs(BaseModel):
    costs: list[Cost]


class Total(BaseModel):
    total: float


class Topic(BaseModel):
    topic: str


class Draft(BaseModel):
    title: str
    body: str


class Published(BaseModel):
    url: str


class Message(BaseModel):
    to: str
    text: str


class Sent(BaseModel):
    delivered_to: str


class Number(BaseModel):
    value: float | None = None


class Shaky(BaseModel):
    value: int
    failures: int = 2


@agent.capability("shop.price", description="What a quantity of one item costs.")
async def price(line: Line) -> Cost:
    if line.name not in PRICES:
        raise FatalError(f"we do not sell {line.name}", code="unknown_item")
    return Cost(name=line.name, cost=round(PRICES[line.name] * line.quantity, 2))


@agent.capability("shop.total", description="Adds up the costs of a basket.")
async def total(costs: Costs) -> Total:
    return Total(total=round(sum(c.cost for c in costs.costs), 2))


@agent.capability("text.draft", description="Drafts a short post on a topic.")
async def draft(topic: Topic) -> Draft:
    return Draft(title=topic.topic.title(), body=f"A few words on {topic.topic}.")


@agent.capability("text.publish", description="Publishes a draft; returns where it lives.")
async def publish(post: Draft) -> Published:
    slug = "-".join(post.title.lower().split())
    return Published(url=f"https://blog.example/{slug}")


@agent.capability("notify.send", description="Sends a message to someone.")
async def send(message: Message) -> Sent:
    return Sent(delivered_to=message.to)


@agent.capability("demo.shaky", description="Fails its first `failures` attempts, then answers.")
async def shaky(request: Shaky, ctx: TaskContext) -> Total:
    if ctx.attempt <= request.failures:
        raise RetryableError(f"attempt {ctx.attempt} failed, try again", code="flaky")
    return Total(total=request.value)


@agent.capability("demo.double", description="Doubles a number (1 when none is given).")
async def double(number: Number) -> Total:
    return Total(total=(number.value if number.value is not None else 1) * 2)
