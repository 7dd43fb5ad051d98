% Text
% Ray and Sue have been married since 2001 and file a joint return for 2016. Ray was paid
% $251000 and Sue $100000 in 2016. Their itemized deductions come to $40000. No children.
% By hand: AGI $351,000 exceeds the $300,000 applicable amount (§68(b)(1)(A)) by $51,000.
% §68(a): the lesser of 3% of $51,000 ($1,530) and 80% of $40,000: itemized deductions
% $38,470. §151(d)(3)(B): $51,000 / $2,500 = 20.4, a fraction counts: 21 x 2 = 42%; each
% exemption $2,000 x 58% = $1,160, two: $2,320. Taxable income $351,000 - $38,470 - $2,320
% = $310,210: §1(a)(v), $75,528.50 + 39.6% of $60,210 = $99,371.66, $99,372.

% Question
% How much tax does ray have to pay in 2016? $99372

% Facts
:- [statutes/prolog/init].
marriage_(ray_and_sue).
agent_(ray_and_sue,ray).
agent_(ray_and_sue,sue).
start_(ray_and_sue,"2001-04-21").
joint_return_(ray_and_sue_2016).
agent_(ray_and_sue_2016,ray).
agent_(ray_and_sue_2016,sue).
start_(ray_and_sue_2016,"2016-01-01").
end_(ray_and_sue_2016,"2016-12-31").
payment_(ray_paid).
patient_(ray_paid,ray).
amount_(ray_paid,251000).
start_(ray_paid,"2016-12-31").
payment_(sue_paid).
patient_(sue_paid,sue).
amount_(sue_paid,100000).
start_(sue_paid,"2016-12-31").
deduction_(ray_and_sue_itemize).
agent_(ray_and_sue_itemize,ray).
amount_(ray_and_sue_itemize,40000).
start_(ray_and_sue_itemize,"2016-12-31").

% Test
:- tax(ray,2016,99372).
:- halt.
