"""作业：自定义连接数和指令，比较阻塞式和非阻塞式客户端的用时。

运行：python3 homework.py --count 10 --command "hello world"
在本机回环地址上两者几乎一样快；让服务端每次回复前等一会儿
（mtssh mock --style handout --latency 200），差别就出来了。
"""

import blocking_client
import selectors_client
from common import parse_args


def main():
    args = parse_args("比较阻塞式与非阻塞式客户端")
    blocking = blocking_client.run(args)
    non_blocking = selectors_client.run(args)
    print(f"连接数 {args.count}，指令 {args.command!r}")
    print(f"阻塞式    {blocking:.2f} 秒")
    print(f"非阻塞式  {non_blocking:.2f} 秒")
    print(f"加速比    {blocking / non_blocking:.1f} 倍")


if __name__ == "__main__":
    main()
