"""The Frechet-distance floor of a shipped classifier card: FD of 1,024 real Fashion-MNIST training images (three draws)
against the card's test-set statistics, i.e. what a perfect sampler would score at that sample size. A minimal ONNX
interpreter in torch for the small classifier graphs (checked against the card's fixture first).

    python3 tools/fd_floor.py models fashion-classifier-pooled 1024
"""
import sys, numpy as np, onnx, torch, torch.nn.functional as F
from onnx import numpy_helper
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
import fashion_data

def attrs(n):
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}

def run(path, x):
    m = onnx.load(path)
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    env[m.graph.input[0].name] = x
    for n in m.graph.node:
        a = attrs(n); i = [env[k] if k else None for k in n.input]
        t = n.op_type
        if t == 'Conv':
            pads = a.get('pads', [0, 0, 0, 0]); st = a.get('strides', [1, 1])
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=st, padding=(pads[0], pads[1]))
        elif t == 'Relu': y = F.relu(i[0])
        elif t == 'MaxPool': y = F.max_pool2d(i[0], a['kernel_shape'], a.get('strides'))
        elif t == 'Flatten': y = i[0].flatten(a.get('axis', 1))
        elif t == 'Reshape': y = i[0].reshape([int(v) for v in i[1].tolist()])
        elif t == 'Gemm':
            w = i[1].t() if a.get('transB', 0) else i[1]
            y = i[0] @ w + (i[2] if len(i) > 2 else 0)
        elif t == 'Add': y = i[0] + i[1]
        elif t == 'ReduceMean': y = i[0].mean(dim=a['axes'], keepdim=bool(a.get('keepdims', 1)))
        elif t == 'Constant': y = torch.from_numpy(numpy_helper.to_array(a['value']).copy())
        elif t == 'Shape': y = torch.tensor(i[0].shape)
        elif t == 'Gather': y = i[0][int(i[1])] if i[1].dim() == 0 else i[0][i[1].long()]
        elif t == 'Unsqueeze': y = i[0].unsqueeze(a['axes'][0])
        elif t == 'Concat': y = torch.cat([v.reshape(-1) if v.dim()==0 else v for v in i], a['axis'])
        else: raise SystemExit(f'op {t}')
        env[n.output[0]] = y
    return [env[o.name] for o in m.graph.output]

def fd(f, mu2, c2):
    import scipy.linalg
    mu1 = f.mean(0); c1 = np.cov(f, rowvar=False)
    s, _ = scipy.linalg.sqrtm(c1 @ c2, disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1 + c2 - 2 * s.real))

if __name__ == '__main__':
    card_dir, name = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
    fx = np.load(f'{card_dir}/{name}.fixture-x.npy'); ff = np.load(f'{card_dir}/{name}.fixture-features.npy')
    with torch.no_grad():
        got = run(f'{card_dir}/{name}.onnx', torch.from_numpy(fx))[0].numpy()
    print('fixture max abs diff', np.abs(got - ff).max())
    mu2 = np.load(f'{card_dir}/{name}.test-mean.npy'); c2 = np.load(f'{card_dir}/{name}.test-cov.npy')
    im, _ = fashion_data.load('train')
    rng = np.random.default_rng(0)
    for rep in range(3):
        idx = rng.choice(im.shape[0], n, replace=False)
        x = torch.from_numpy(fashion_data.to_unit_range(im[idx]).astype(np.float32))
        with torch.no_grad():
            f = torch.cat([run(f'{card_dir}/{name}.onnx', x[k:k + 256])[0] for k in range(0, n, 256)]).double().numpy()
        print(f'{name}: FD of {n} real training images vs test stats: {fd(f, mu2, c2):.4f}')
