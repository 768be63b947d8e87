"""非阻塞客户端：用 selectors 在一个线程里同时推进许多会话。

先为每个会话登录并打开 shell 通道，然后把通道设为非阻塞（setblocking(False)），
注册到选择器（selectors.register；paramiko 的通道有 fileno()，可以被 select）。
主循环里 sel.select() 只在“某个通道有数据可读”时返回，我们只处理那些就绪的通道：
一个会话在等服务端时，其他会话照常前进，所以各会话的等待时间是重叠的。

每个会话是一个小状态机：等横幅 → 发送指令 → 等回显 → 完成。

运行：python3 selectors_client.py --count 5 --command hello
"""

import selectors
import time

from common import PROMPT, login, parse_args

WAIT_BANNER, WAIT_REPLY = "等横幅", "等回显"


class Session:
    def __init__(self, number, client, channel):
        self.number = number
        self.client = client
        self.channel = channel
        self.state = WAIT_BANNER
        self.data = b""


def on_readable(session, args, sel):
    """回调：通道可读时调用。返回 True 表示该会话已完成。"""
    try:
        chunk = session.channel.recv(4096)
    except BlockingIOError:  # 没有数据（非阻塞读不会等待），下次再来
        return False
    if not chunk:
        raise ConnectionError(f"会话 {session.number}：服务端提前关闭了通道")
    session.data += chunk
    if not session.data.endswith(PROMPT):
        return False  # 还没读到完整的一屏，继续等
    if session.state == WAIT_BANNER:
        session.data = b""
        session.state = WAIT_REPLY
        session.channel.send((args.command + "\n").encode())
        return False
    for line in session.data.decode("utf-8", "replace").splitlines():
        if line.startswith("服务端收到指令："):
            print(f"会话 {session.number}: {line}")
    sel.unregister(session.channel)
    session.client.close()
    return True


def run(args):
    """同时跑完所有会话，返回用时（秒）。"""
    start = time.perf_counter()
    sel = selectors.DefaultSelector()
    for number in range(1, args.count + 1):
        client, channel = login(args)  # 握手和认证仍是阻塞的：简单起见
        channel.setblocking(False)
        sel.register(channel, selectors.EVENT_READ, Session(number, client, channel))
    remaining = args.count
    deadline = time.monotonic() + 60
    while remaining:
        if time.monotonic() > deadline:
            raise TimeoutError(f"还有 {remaining} 个会话没有完成")
        for key, _events in sel.select(timeout=1):  # 只返回就绪的通道
            if on_readable(key.data, args, sel):
                remaining -= 1
    sel.close()
    return time.perf_counter() - start


if __name__ == "__main__":
    options = parse_args("非阻塞 SSH 客户端：一个线程用 selectors 同时推进所有会话")
    print(f"非阻塞：{options.count} 个会话用时 {run(options):.2f} 秒")
