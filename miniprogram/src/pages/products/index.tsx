import { Text, View } from '@tarojs/components';
import Taro, { usePullDownRefresh } from '@tarojs/taro';
import { RemoteView } from '../../components/StatusView';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';

function ageText(age: { minDays?: number; minYears?: number; maxYears: number }) {
  return `${age.minDays !== undefined ? `出生满${age.minDays}天` : `${age.minYears}周岁`}–${age.maxYears}周岁`;
}

export default function ProductsPage() {
  const products = useRemote(() => api.products().then((r) => r.items));
  usePullDownRefresh(() => {
    void products.reload().finally(() => Taro.stopPullDownRefresh());
  });
  return (
    <View className='page'>
      <RemoteView remote={products} isEmpty={(items) => items.length === 0} emptyText='暂无在售产品'>
        {(items) =>
          items.map((p) => (
            <View
              key={p.id}
              className='card product-card'
              onClick={() => void Taro.navigateTo({ url: `/pages/products/detail?id=${encodeURIComponent(p.id)}` })}
            >
              <View className='row row--between'>
                <Text className='card__title'>{p.name}</Text>
                <Text className='tag'>{p.category}</Text>
              </View>
              <Text className='card__sub'>{p.summary}</Text>
              <View className='row row--between' style={{ marginTop: '16px' }}>
                <Text className='muted'>投保年龄 {ageText(p.insuredAge)}</Text>
                <Text className='link'>查看详情 ›</Text>
              </View>
            </View>
          ))
        }
      </RemoteView>
    </View>
  );
}
