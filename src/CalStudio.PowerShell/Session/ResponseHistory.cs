using System.Collections.Generic;

namespace CalStudio.Session
{
    /// <summary>The session's last N responses, oldest first; bounded so a long batch keeps flat memory.</summary>
    internal sealed class ResponseHistory
    {
        private readonly Queue<Response> _items = new Queue<Response>();
        private readonly object _gate = new object();

        public ResponseHistory(int capacity) { Capacity = capacity; }

        public int Capacity { get; }

        public void Add(Response response)
        {
            lock (_gate)
            {
                if (_items.Count == Capacity) _items.Dequeue();
                _items.Enqueue(response);
            }
        }

        public Response[] Snapshot()
        {
            lock (_gate) return _items.ToArray();
        }
    }
}
