"""阻塞式客户端：N 个会话一个接一个地执行。

每个会话：登录 → 读到提示符 "> " → 发送指令 → 读到下一个 "> " → 关闭。
recv() 会一直阻塞到有数据为止，所以一个会话在等服务端时，其他会话什么也做不了：
总时间约等于各会话时间之和。

运行：python3 blocking_client.py --count 5 --command hello
"""

import time

from common import PROMPT, login, parse_args


def read_until_prompt(channel):
    """阻塞地读，直到收到的数据以提示符结尾。"""
    data = b""
    while not data.endswith(PROMPT):
        chunk = channel.recv(4096)  # 阻塞点：没有数据时程序停在这里
        if not chunk:
            raise ConnectionError("服务端在提示符之前关闭了通道")
        data += chunk
    return data.decode("utf-8", "replace")


def run_session(args, number):
    client, channel = login(args)
    try:
        channel.settimeout(20)  # 防止服务端不回话时永远卡住
        read_until_prompt(channel)  # 横幅和第一个提示符
        channel.send((args.command + "\n").encode())
        reply = read_until_prompt(channel)
        for line in reply.splitlines():
            if line.startswith("服务端收到指令："):
                print(f"会话 {number}: {line}")
    finally:
        client.close()


def run(args):
    """依次跑完所有会话，返回用时（秒）。"""
    start = time.perf_counter()
    for number in range(1, args.count + 1):
        run_session(args, number)
    return time.perf_counter() - start


if __name__ == "__main__":
    options = parse_args("阻塞式 SSH 客户端：会话一个接一个地执行")
    print(f"阻塞式：{options.count} 个会话用时 {run(options):.2f} 秒")
