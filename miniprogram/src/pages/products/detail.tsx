import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { RemoteView } from '../../components/StatusView';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { formatSumInsured, RELATION_LABELS } from '../../services/format';

export default function ProductDetailPage() {
  const id = useRouter().params.id ?? '';
  const product = useRemote(() => api.product(id), [id]);
  return (
    <View className='page'>
      <RemoteView remote={product}>
        {(p) => (
          <>
            <View className='card'>
              <View className='row row--between'>
                <Text className='card__title'>{p.name}</Text>
                <Text className='tag'>{p.category}</Text>
              </View>
              <Text className='card__sub'>{p.summary}</Text>
            </View>

            <Text className='section-title'>保障计划</Text>
            {p.plans.map((plan) => (
              <View key={plan.id} className='card'>
                <View className='row row--between'>
                  <Text className='strong'>{plan.name}</Text>
                  {plan.sumInsuredFen !== undefined && <Text className='muted'>保额 {formatSumInsured(plan.sumInsuredFen)}</Text>}
                </View>
                {plan.benefits.map((b) => (
                  <Text key={b} className='benefit'>· {b}</Text>
                ))}
              </View>
            ))}

            <Text className='section-title'>投保须知</Text>
            <View className='card'>
              <View className='cell'>
                <Text className='cell__label'>被保险人</Text>
                <Text className='cell__value'>{p.insuredRelations.map((r) => RELATION_LABELS[r] ?? r).join('、')}</Text>
              </View>
              <View className='cell'>
                <Text className='cell__label'>保障期限</Text>
                <Text className='cell__value'>{p.terms.map((t) => t.label).join(' / ')}</Text>
              </View>
              {p.sumInsured && (
                <View className='cell'>
                  <Text className='cell__label'>保额</Text>
                  <Text className='cell__value'>
                    {formatSumInsured(p.sumInsured.minFen)}–{formatSumInsured(p.sumInsured.maxFen)}
                  </Text>
                </View>
              )}
              <View className='cell'>
                <Text className='cell__label'>犹豫期</Text>
                <Text className='cell__value'>{p.coolingOffDays ? `${p.coolingOffDays}天` : '无'}</Text>
              </View>
              <View className='cell'>
                <Text className='cell__label'>等待期</Text>
                <Text className='cell__value'>{p.waitingPeriodDays ? `${p.waitingPeriodDays}天` : '无'}</Text>
              </View>
              <View className='cell'>
                <Text className='cell__label'>续保</Text>
                <Text className='cell__value'>{p.renewable ? '可续保' : '不可续保'}</Text>
              </View>
            </View>

            <Text className='section-title'>理赔所需材料</Text>
            <View className='card'>
              <Text className='muted'>{p.claimDocuments.join('、')}</Text>
            </View>

            <View className='bottom-bar'>
              <View
                className='btn btn--primary grow'
                onClick={() => void Taro.navigateTo({ url: `/pages/quote/index?productId=${encodeURIComponent(p.id)}` })}
              >
                <Text>立即投保</Text>
              </View>
            </View>
          </>
        )}
      </RemoteView>
    </View>
  );
}
