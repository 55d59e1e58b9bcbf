using System.Collections.Generic;

namespace CalStudio.Engine
{
    /// <summary>
    /// The in-flight gate's waiters: first come, first served, except that a follow-up (a retry, or a JSON re-ask, of a
    /// row already sent) goes ahead of every first attempt, first come first served among follow-ups. A batch starts
    /// up to a thousand rows ahead of the wire; a follow-up queued behind them would hold its row's paid answer in
    /// memory (lost to a kill, or left unfinished when the day's quota is spent on new rows) until they had all gone.
    /// Not thread-safe: the gate calls it under its lock.
    /// </summary>
    internal sealed class FollowUpFirstQueue<T>
    {
        private readonly LinkedList<T> _items = new LinkedList<T>();
        private LinkedListNode<T> _lastFollowUp; // follow-ups are the list's first items, up to this one

        public int Count => _items.Count;

        public LinkedListNode<T> Add(T item, bool followUp)
        {
            if (!followUp) return _items.AddLast(item);
            _lastFollowUp = _lastFollowUp == null ? _items.AddFirst(item) : _items.AddAfter(_lastFollowUp, item);
            return _lastFollowUp;
        }

        public T TakeFirst()
        {
            var first = _items.First;
            if (first == _lastFollowUp) _lastFollowUp = null;
            _items.RemoveFirst();
            return first.Value;
        }

        /// <summary>Takes a waiter out of turn (cancelled); false when it was already taken.</summary>
        public bool Remove(LinkedListNode<T> node)
        {
            if (node.List == null) return false;
            if (node == _lastFollowUp) _lastFollowUp = node.Previous;
            _items.Remove(node);
            return true;
        }
    }
}
