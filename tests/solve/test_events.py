"""core.events: what a subscriber sees, and that a broken display never stops the run."""

from lifecircle.optimizer.core import events


def test_subscriber_sees_events_only_while_subscribed():
    seen = []
    with events.subscribe(lambda kind, **fields: seen.append((kind, fields))):
        assert events.watching()
        events.emit("mip", incumbent=3.0, bound=4.0, gap=0.25)
    events.emit("phase", message="after")
    assert seen == [("mip", {"incumbent": 3.0, "bound": 4.0, "gap": 0.25})]
    assert not events.watching()


def test_failing_subscriber_does_not_stop_others():
    seen = []

    def broken(kind, **fields):
        raise RuntimeError("display broke")

    with events.subscribe(broken), events.subscribe(lambda kind, **f: seen.append(kind)):
        events.emit("phase", message="solving")
    assert seen == ["phase"]
